import { HttpError } from 'react-admin';
import { currentToken } from '../session';

export const ADMIN_GRAPHQL_URL = `${import.meta.env.BASE_URL.replace(/\/$/, '')}/graphql`;

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

const STATUS_BY_CODE: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, RATE_LIMITED: 429 };

/** Turns the first GraphQL error into the HttpError react-admin understands (401 logs out). */
export function toHttpError(errors: GraphQLErrorShape[], fallbackStatus = 400): HttpError {
  const first = errors[0];
  const code = first?.extensions?.code;
  const status = (code && STATUS_BY_CODE[code]) || fallbackStatus;
  return new HttpError(first?.message ?? 'Request failed', status, { code, extensions: first?.extensions });
}

/**
 * fetch for the staff endpoint: adds the bearer token and, because the API answers
 * UNAUTHENTICATED with HTTP 401, hands error bodies to Apollo as ordinary GraphQL
 * errors (status 200) so their message and code survive.
 */
export async function authorizedFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(input, { ...init, headers });
  if (res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return res;
  const body = await res.text();
  return new Response(body, { status: 200, headers: res.headers });
}

/** One operation against /admin/graphql, for the custom (non-CRUD) operations. */
export async function adminRequest<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  try {
    res = await authorizedFetch(ADMIN_GRAPHQL_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new HttpError(`Network error: ${(e as Error).message}`, 0);
  }
  let body: { data?: T; errors?: GraphQLErrorShape[] };
  try {
    body = await res.json();
  } catch {
    throw new HttpError(`Unexpected response (HTTP ${res.status})`, res.status);
  }
  if (body.errors?.length) throw toHttpError(body.errors);
  return body.data as T;
}
