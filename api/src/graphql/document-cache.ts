/**
 * Parsed and validated graphql-ws documents, by query text. Every client of an app sends
 * the same few queries: without this each subscription kept a parse of its own (the AST
 * with its token list, ~15 KB for a groupEvents selection) for as long as its socket
 * lived. Apollo keeps the same kind of cache for HTTP. Only documents that passed every
 * rule are kept, and the cache is bounded by the query text it holds.
 */
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { DomainError } from '../errors';
import { DocumentCheck, parseAndValidate } from './limits';

/**
 * Query text held, in characters. A document's AST with its token list takes about 45 times
 * its text (15 KB for a 330-character groupEvents query): at most some 15 MB in all, room
 * for about a thousand queries of that size.
 */
const MAX_QUERY_CHARS = 300_000;

export interface ValidDocument {
  document: DocumentNode;
  /** The query text the document was parsed from: one string shared by every operation that sent it. */
  query: string;
}

export class DocumentCache {
  private readonly documents = new LRUCache<string, ValidDocument>({ maxSize: MAX_QUERY_CHARS, sizeCalculation: (d) => Math.max(1, d.query.length) });

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly check: DocumentCheck,
  ) {}

  /** The document for `query`, or the client's errors (BAD_USER_INPUT) as parseAndValidate gives them. */
  get(query: string): ValidDocument | DomainError[] {
    const cached = this.documents.get(query);
    if (cached) return cached;
    const document = parseAndValidate(this.schema, query, this.check);
    if (Array.isArray(document)) return document;
    const valid = { document, query };
    // A query longer than the whole cache is not kept (lru-cache refuses it).
    if (query.length <= MAX_QUERY_CHARS) this.documents.set(query, valid);
    return valid;
  }
}
