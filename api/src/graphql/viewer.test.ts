import 'reflect-metadata';
import { parse } from 'graphql';
import { findsOwnAuthor } from './viewer';

describe('findsOwnAuthor', () => {
  it('holds for a mutation made only of sendMessage fields', () => {
    expect(findsOwnAuthor(parse(`mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`), undefined)).toBe(true);
    expect(findsOwnAuthor(parse(`mutation { a: sendMessage(input: $a) { id } b: sendMessage(input: $b) { id } }`), undefined)).toBe(true);
  });

  it('fails for anything else: other fields beside it, queries, spreads and directives at the root', () => {
    expect(findsOwnAuthor(parse(`mutation { sendMessage(input: $i) { id } markRead(groupId: $g, seq: 1) { unreadCount } }`), undefined)).toBe(false);
    expect(findsOwnAuthor(parse(`query { me { id } }`), undefined)).toBe(false);
    expect(findsOwnAuthor(parse(`mutation { ...F } fragment F on Mutation { sendMessage(input: $i) { id } }`), undefined)).toBe(false);
    expect(findsOwnAuthor(parse(`mutation { sendMessage(input: $i) @include(if: $x) { id } }`), undefined)).toBe(false);
  });

  it('judges the operation that runs, by name', () => {
    const doc = parse(`mutation Send { sendMessage(input: $i) { id } } query Me { me { id } }`);
    expect(findsOwnAuthor(doc, 'Send')).toBe(true);
    expect(findsOwnAuthor(doc, 'Me')).toBe(false);
  });
});
