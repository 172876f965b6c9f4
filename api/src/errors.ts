/**
 * The fixed set of error codes client teams rely on (docs/product.md §9), one error class
 * that carries them, and the one formatter that masks everything else.
 */
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'PROFILE_REQUIRED',
  'GROUP_FULL',
  'INVITE_INVALID',
  'FEATURE_NOT_AVAILABLE',
  'QUOTA_EXCEEDED',
  'CONTENT_BLOCKED',
  'SUSPENDED',
  'RATE_LIMITED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra } });
  }
}

export const notFound = (what = 'Resource') => new DomainError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string, field?: string) =>
  new DomainError('BAD_USER_INPUT', message, field ? { field } : {});
export const forbidden = (message = 'Not allowed') => new DomainError('FORBIDDEN', message);
export const unauthenticated = (message = 'Authentication required') =>
  new DomainError('UNAUTHENTICATED', message, { http: { status: 401 } });

/** Codes produced by graphql-js / Apollo itself for malformed operations. */
const REQUEST_ERROR_CODES: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: 'BAD_USER_INPUT',
  GRAPHQL_VALIDATION_FAILED: 'BAD_USER_INPUT',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_FOUND: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_SUPPORTED: 'BAD_USER_INPUT',
};

const isKnownCode = (c: unknown): c is ErrorCode => typeof c === 'string' && (ERROR_CODES as readonly string[]).includes(c);

/**
 * Maps every error to one of the fixed codes. Domain errors pass through; request errors
 * (parse, validation, argument coercion) become BAD_USER_INPUT; anything else is an
 * internal error whose message and stack never reach the client.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, onInternal?: (e: unknown) => void): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) {
    const { http: _http, ...extensions } = original.extensions as Record<string, unknown>;
    return { ...formatted, message: original.message, extensions };
  }
  const code = formatted.extensions?.code;
  if (isKnownCode(code) && code !== 'INTERNAL') {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  if (typeof code === 'string' && REQUEST_ERROR_CODES[code]) {
    return { message: formatted.message, locations: formatted.locations, extensions: { code: REQUEST_ERROR_CODES[code] } };
  }
  onInternal?.(original);
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL' } };
}

/** Same masking for errors raised outside Apollo (graphql-ws execution). */
export function toFormattedErrors(errors: readonly GraphQLError[], onInternal?: (e: unknown) => void): GraphQLFormattedError[] {
  return errors.map((e) => formatError(e.toJSON(), e, onInternal));
}
