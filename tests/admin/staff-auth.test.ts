/**
 * Staff sign-in and tokens: client and staff tokens never cross endpoints (even with one
 * secret for both), failures look alike, and throttling holds under parallel attempts.
 */
import { adminUrl, createStaff, staffGql, staffSignIn } from '../support/admin';
import { errorOf, startApi, TEST_SECRET, TestApi, wsConnectionOutcome } from '../support/harness';

let api: TestApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.stop();
});

const ME = `{ me { id email role } }`;

describe('sign-in', () => {
  it('returns a session whose token reads `me`, and records last sign-in and a SIGN_IN entry', async () => {
    const staff = await createStaff(api, { role: 'moderator', password: 'correct horse battery' });
    const r = await staffSignIn(api, staff.email.toUpperCase(), 'correct horse battery');
    expect(r.errors).toBeUndefined();
    expect(r.data!.signIn.staff).toEqual({ id: staff.id, email: staff.email, role: 'MODERATOR' });
    const ttl = new Date(r.data!.signIn.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(1700_000);
    expect(ttl).toBeLessThanOrEqual(1800_000);
    const me = await staffGql(api, r.data!.signIn.token, ME);
    expect(me.data.me).toEqual({ id: staff.id, email: staff.email, role: 'MODERATOR' });
    const [row] = await api.query(`SELECT last_sign_in_at FROM staff_users WHERE id = $1`, [staff.id]);
    expect(row.last_sign_in_at).not.toBeNull();
    expect(await api.query(`SELECT 1 FROM staff_audit WHERE action = 'SIGN_IN' AND actor_id = $1`, [staff.id])).toHaveLength(1);
  });

  it('gives a wrong password and an unknown email the same UNAUTHENTICATED error', async () => {
    const staff = await createStaff(api);
    const wrong = errorOf(await staffSignIn(api, staff.email, 'not the password at all'));
    const unknown = errorOf(await staffSignIn(api, 'nobody@example.test', 'not the password at all'));
    expect(wrong).toEqual({ code: 'UNAUTHENTICATED', message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } });
    expect(unknown).toEqual(wrong);
  });

  it('stores only an argon2id hash of the password', async () => {
    const staff = await createStaff(api, { password: 'a long enough password' });
    const [row] = await api.query(`SELECT password_hash FROM staff_users WHERE id = $1`, [staff.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain('a long enough password');
  });

  it('a disabled account or a changed role takes effect on the next request', async () => {
    const staff = await createStaff(api, { role: 'admin' });
    await api.query(`UPDATE staff_users SET role = 'moderator' WHERE id = $1`, [staff.id]);
    expect((await staffGql(api, staff.token, ME)).data.me.role).toBe('MODERATOR');
    await api.query(`UPDATE staff_users SET disabled_at = now() WHERE id = $1`, [staff.id]);
    expect(errorOf(await staffGql(api, staff.token, ME)).code).toBe('UNAUTHENTICATED');
    expect(errorOf(await staffSignIn(api, staff.email, staff.password)).code).toBe('UNAUTHENTICATED');
  });

  it('needs a token for everything but signIn, and for introspection', async () => {
    expect(errorOf(await staffGql(api, null, ME)).code).toBe('UNAUTHENTICATED');
    expect(errorOf(await staffGql(api, null, `{ __schema { queryType { name } } }`)).code).toBe('UNAUTHENTICATED');
    const staff = await createStaff(api, { role: 'moderator' });
    expect((await staffGql(api, staff.token, `{ __schema { queryType { name } } }`)).data.__schema.queryType.name).toBe('Query');
  });
});

describe('tokens do not cross endpoints', () => {
  it('refuses client tokens at /admin/graphql and staff tokens at /graphql', async () => {
    const user = await api.user();
    const staff = await createStaff(api);
    expect(errorOf(await staffGql(api, user.token, ME)).code).toBe('UNAUTHENTICATED');
    expect(errorOf(await api.gql(staff.token, `{ me { id } }`)).code).toBe('UNAUTHENTICATED');
  });

  it('refuses a staff token in graphql-ws connection_init', async () => {
    const staff = await createStaff(api);
    const user = await api.user();
    expect(await wsConnectionOutcome(api, user.token)).toBe('connected');
    expect(await wsConnectionOutcome(api, staff.token)).toBe(4403);
  });

  it('keeps them apart by audience even when one secret signs both', async () => {
    const same = await startApi({ STAFF_JWT_SECRET: TEST_SECRET });
    try {
      const user = await same.user();
      const staff = await createStaff(same);
      expect((await staffGql(same, staff.token, ME)).data.me.id).toBe(staff.id);
      expect(errorOf(await staffGql(same, user.token, ME)).code).toBe('UNAUTHENTICATED');
      expect(errorOf(await same.gql(staff.token, `{ me { id } }`)).code).toBe('UNAUTHENTICATED');
      expect(await wsConnectionOutcome(same, staff.token)).toBe(4403);
    } finally {
      await same.stop();
    }
  });

  it('serves the staff API on the client port at /admin/graphql', () => {
    expect(adminUrl(api)).toBe(api.url.replace('/graphql', '/admin/graphql'));
  });
});

describe('throttling', () => {
  const SIGN_IN = `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token staff { id } } }`;

  it('lets exactly 5 of 12 parallel wrong passwords for one email be checked; the rest and then the right one are RATE_LIMITED', async () => {
    const staff = await createStaff(api, { password: 'the right password' });
    const results = await Promise.all(Array.from({ length: 12 }, () => staffSignIn(api, staff.email, 'a wrong password')));
    const codes = results.map((r) => errorOf(r).code);
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(7);
    const limited = errorOf(results.find((r) => errorOf(r).code === 'RATE_LIMITED')!);
    expect(limited.extensions.retryAfterSeconds).toBeGreaterThan(800);
    expect(limited.extensions.retryAfterSeconds).toBeLessThanOrEqual(900);
    expect(errorOf(await staffSignIn(api, staff.email, 'the right password')).code).toBe('RATE_LIMITED');
    // Other accounts from this address are not locked out by one email's failures.
    const other = await createStaff(api, { password: 'another right password' });
    expect((await staffSignIn(api, other.email, 'another right password')).data!.signIn.staff.id).toBe(other.id);
  });

  it('limits one address to 20 failures across emails, under parallel attempts', async () => {
    const own = await startApi();
    try {
      const results = await Promise.all(Array.from({ length: 26 }, (_, i) => staffSignIn(own, `nobody${i}@example.test`, 'some password here')));
      const codes = results.map((r) => errorOf(r).code);
      expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(20);
      expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(6);
    } finally {
      await own.stop();
    }
  });

  /** 20 failures, each for another email, sent as if forwarded for `from` (a forged header when no proxy is trusted). */
  const failTwentyTimes = (target: TestApi, from: (i: number) => string) =>
    Promise.all(Array.from({ length: 20 }, (_, i) => staffGql(target, null, SIGN_IN, { e: `nobody${i}@example.test`, p: 'some password here' }, { 'x-forwarded-for': from(i) })));

  it('behind a trusted proxy (TRUST_PROXY loopback), counts failures per forwarded client, not per proxy', async () => {
    const own = await startApi({ TRUST_PROXY: 'loopback' });
    try {
      const first = await failTwentyTimes(own, () => '203.0.113.5');
      expect(first.map((r) => errorOf(r).code)).toEqual(Array(20).fill('UNAUTHENTICATED'));
      const again = await staffGql(own, null, SIGN_IN, { e: 'someone@example.test', p: 'some password here' }, { 'x-forwarded-for': '203.0.113.5' });
      expect(errorOf(again).code).toBe('RATE_LIMITED');
      // Another client behind the same proxy is not locked out by the first one's failures.
      const staff = await createStaff(own, { password: 'the right password' });
      const other = await staffGql(own, null, SIGN_IN, { e: staff.email, p: 'the right password' }, { 'x-forwarded-for': '198.51.100.7' });
      expect(other.data.signIn.staff.id).toBe(staff.id);
    } finally {
      await own.stop();
    }
  });

  it('without a trusted proxy, ignores X-Forwarded-For: a forged address per attempt does not get past the limit', async () => {
    const own = await startApi();
    try {
      await failTwentyTimes(own, (i) => `203.0.113.${i + 1}`);
      const next = await staffGql(own, null, SIGN_IN, { e: 'someone@example.test', p: 'some password here' }, { 'x-forwarded-for': '198.51.100.7' });
      expect(errorOf(next).code).toBe('RATE_LIMITED');
    } finally {
      await own.stop();
    }
  });
});
