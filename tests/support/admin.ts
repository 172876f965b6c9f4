/**
 * Staff helpers for integration and console tests: staff accounts created through the
 * same service as `npm run staff:create`, and a GraphQL client for /admin/graphql.
 *
 *   const api = await startApi();
 *   const admin = await createStaff(api, { role: 'admin' });
 *   const r = await staffGql(api, admin.token, `{ me { email role } }`);
 */
import { randomUUID } from 'node:crypto';
import type { GqlResult, TestApi } from './harness';

export type TestStaffRole = 'admin' | 'moderator';
/** Either spelling: the database's (`admin`) or the schema's (`ADMIN`). */
export type TestStaffRoleInput = TestStaffRole | 'ADMIN' | 'MODERATOR';

export interface TestStaff {
  id: string;
  email: string;
  role: TestStaffRole;
  password: string;
  /** A staff token issued directly (no sign-in request, no SIGN_IN audit row). */
  token: string;
}

export interface CreateStaffInput {
  email?: string;
  role?: TestStaffRoleInput;
  password?: string;
}

/** The staff endpoint of a test API (`http://127.0.0.1:<port>/admin/graphql`). */
export function adminUrl(api: TestApi): string {
  return api.url.replace(/\/graphql$/, '/admin/graphql');
}

/** The server's origin, e.g. for loading the console at `${origin(api)}/admin`. */
export function origin(api: TestApi): string {
  return new URL(api.url).origin;
}

/**
 * Creates a staff account (writing a STAFF_CREATED audit row, as the CLI does) and
 * returns it with a valid token. Defaults: a unique email, role admin, a 16+ char password.
 */
export async function createStaff(api: TestApi, input: CreateStaffInput = {}): Promise<TestStaff> {
  const email = (input.email ?? `staff-${randomUUID().slice(0, 8)}@example.test`).toLowerCase();
  const role = (input.role ?? 'admin').toLowerCase() as TestStaffRole;
  const password = input.password ?? `pw-${randomUUID()}`;
  const { staff } = api.app.services;
  const created = await staff.create({ email, role, password }, { actorId: null, actorEmail: 'test-harness' });
  const { token } = await staff.issueToken(created);
  return { id: created.id, email, role, password, token };
}

/** POSTs an operation to /admin/graphql with an optional staff token. */
export async function staffGql<T = any>(
  api: TestApi,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GqlResult<T>> {
  const res = await fetch(adminUrl(api), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlResult<T>;
  return { ...body, status: res.status };
}

/** Like staffGql, but fails the test with the errors if there are any. */
export async function staffOk<T = any>(api: TestApi, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await staffGql<T>(api, token, query, variables);
  if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
  return r.data as T;
}

/** Signs in through the public `signIn` mutation (counts toward the rate limit, writes SIGN_IN). */
export function staffSignIn(api: TestApi, email: string, password: string): Promise<GqlResult<{ signIn: { token: string; expiresAt: string; staff: { id: string; email: string; role: string } } }>> {
  return staffGql(api, null, `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token expiresAt staff { id email role } } }`, { e: email, p: password });
}

/** A member reports a message (the client API): staff review it as a case. */
export const REPORT_MESSAGE = `mutation($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) { id } }`;
