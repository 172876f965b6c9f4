import { parseMentions } from './parse-mentions';

describe('parseMentions', () => {
  it('finds usernames and the AI by its configured name, case-insensitively', () => {
    expect(parseMentions('@Alice and @bob_2, ask @ai please', 'AI')).toEqual({ usernames: ['alice', 'bob_2'], mentionsAi: true });
  });
  it('drops a trailing full stop and repeated names', () => {
    expect(parseMentions('thanks @bob. and @bob again', 'AI')).toEqual({ usernames: ['bob'], mentionsAi: false });
  });
  it('ignores e-mail addresses and too-short names', () => {
    expect(parseMentions('mail me at carol@example.com, @yo', 'AI')).toEqual({ usernames: [], mentionsAi: false });
  });
  it('honours a custom AI name', () => {
    expect(parseMentions('hey @Sage what now?', 'sage').mentionsAi).toBe(true);
    expect(parseMentions('hey @AI what now?', 'sage').mentionsAi).toBe(false);
  });
  it('finds mentions after punctuation and in other scripts', () => {
    expect(parseMentions('(@dave) 你好@eve_x', 'AI').usernames).toEqual(['dave', 'eve_x']);
  });
});
