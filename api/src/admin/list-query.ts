/**
 * The list grammar of ra-data-graphql-simple turned into SQL: 0-based pages, perPage
 * capped, a whitelist of sort fields (anything else is BAD_USER_INPUT), and a WHERE
 * builder that numbers its parameters.
 */
import { ArgsType, Field, Int } from 'type-graphql';
import { badInput } from '../errors';
import { isUuid } from '../groups/group.policy';

export const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 25;

@ArgsType()
export class ListArgs {
  @Field(() => Int, { nullable: true, description: '0-based' }) page?: number | null;
  @Field(() => Int, { nullable: true, description: 'at most 100' }) perPage?: number | null;
  @Field(() => String, { nullable: true }) sortField?: string | null;
  @Field(() => String, { nullable: true, description: 'ASC or DESC' }) sortOrder?: string | null;
}

export interface Page {
  limit: number;
  offset: number;
}

export function pageOf(args: ListArgs): Page {
  const perPage = args.perPage ?? DEFAULT_PER_PAGE;
  const page = args.page ?? 0;
  if (!Number.isInteger(perPage) || perPage < 1) throw badInput('perPage must be a positive integer', 'perPage');
  if (!Number.isInteger(page) || page < 0) throw badInput('page must be 0 or more', 'page');
  const limit = Math.min(perPage, MAX_PER_PAGE);
  return { limit, offset: page * limit };
}

/**
 * ORDER BY for a whitelisted field. Each field maps to one or more "expression direction"
 * terms written for ASC; DESC flips every term. `tiebreak` keeps pages stable.
 */
export function orderBy(args: ListArgs, fields: Record<string, string[]>, fallback: { field: string; order: 'ASC' | 'DESC' }, tiebreak: string): string {
  const field = args.sortField ?? fallback.field;
  const terms = fields[field];
  if (!terms) throw badInput(`sortField must be one of ${Object.keys(fields).join(', ')}`, 'sortField');
  const order = (args.sortOrder ?? (args.sortField ? 'ASC' : fallback.order)).toUpperCase();
  if (order !== 'ASC' && order !== 'DESC') throw badInput('sortOrder must be ASC or DESC', 'sortOrder');
  const flip = (term: string) => (/\sDESC$/i.test(term) ? term.replace(/\sDESC$/i, ' ASC') : term.replace(/\sASC$/i, '') + ' DESC');
  const list = order === 'ASC' ? terms : terms.map(flip);
  return [...list, `${tiebreak} ${order}`].join(', ');
}

/** Accumulates AND-ed conditions; each `?` in a clause becomes the next `$n`. */
export class Where {
  private readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: string, ...values: unknown[]): this {
    let i = 0;
    this.clauses.push(clause.replace(/\?/g, () => `$${this.params.push(values[i++])}`));
    return this;
  }

  /** Adds the clause only when the value is given (not null or undefined). */
  maybe(value: unknown, clause: string): this {
    return value === null || value === undefined ? this : this.add(clause, value);
  }

  /** `ids` filter: only well-formed UUIDs can match, so others are dropped rather than failing the query. */
  ids(ids: string[] | null | undefined, column: string): this {
    return ids ? this.add(`${column} = ANY(?::uuid[])`, ids.filter(isUuid)) : this;
  }

  get sql(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }

  /** The next parameter placeholder (for LIMIT/OFFSET after the conditions). */
  next(value: unknown): string {
    return `$${this.params.push(value)}`;
  }
}

/** `%text%` for ILIKE, with the pattern characters escaped. */
export const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
