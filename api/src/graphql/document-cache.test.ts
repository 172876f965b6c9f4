import { buildSchema, DocumentNode } from 'graphql';
import { DomainError } from '../errors';
import { DocumentCache } from './document-cache';

const schema = buildSchema(`
  type Query { hello(name: String): String }
  type Subscription { ticks(room: ID!): Int }
`);
const check = {
  limits: { maxTokens: 1000, maxAliases: 15, maxDirectives: 50, maxRootFields: 10, maxDepth: 10 },
  introspection: false,
  maxCost: 5000,
  costs: {},
};

describe('DocumentCache', () => {
  it('gives every operation that sends the same text the same document and the same query string', () => {
    const cache = new DocumentCache(schema, check);
    const text = 'subscription($r: ID!) { ticks(room: $r) }';
    const first = cache.get(text);
    // A copy of the text, as JSON.parse makes for each subscribe frame.
    const second = cache.get(JSON.parse(JSON.stringify(text)) as string);
    if (Array.isArray(first) || Array.isArray(second)) throw new Error('the document was refused');
    expect(second.document).toBe(first.document);
    expect(second.query).toBe(first.query);
  });

  it('refuses an invalid document every time with BAD_USER_INPUT, and does not keep it', () => {
    const cache = new DocumentCache(schema, check);
    for (let i = 0; i < 2; i++) {
      const r = cache.get('{ nope }');
      expect(Array.isArray(r)).toBe(true);
      expect((r as DomainError[])[0]).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect(Array.isArray(cache.get('{ hello(name: '))).toBe(true);
  });

  it('applies the document limits before caching (a document past the token limit is refused)', () => {
    const cache = new DocumentCache(schema, { ...check, limits: { ...check.limits, maxTokens: 5 } });
    expect(Array.isArray(cache.get('{ hello(name: "a") }'))).toBe(true);
  });

  it('parses different texts separately', () => {
    const cache = new DocumentCache(schema, check);
    const a = cache.get('{ hello }') as { document: DocumentNode };
    const b = cache.get('{ hello(name: "b") }') as { document: DocumentNode };
    expect(a.document).not.toBe(b.document);
  });
});
