/**
 * Issue 10, item 2: an open graphql-ws socket is exactly as authorized as a new HTTP
 * request with the same token. Each operation on a socket checks suspension, the profile,
 * the parental switch, plan and region as HTTP does; a socket ends at its token's `exp`
 * (4403 "Token expired") and when staff suspend its user (4403 "Account suspended");
 * tokens without `exp` or living longer than JWT_MAX_TTL_SECONDS are refused on both
 * transports.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { createStaff, staffOk, TestStaff } from '../support/admin';
import { errorOf, startApi, TEST_SECRET, TestApi, TestUser, wsConnectionOutcome } from '../support/harness';
import { RawGraphqlWs, RawResult, SocketClosed } from '../support/raw-graphql-ws';

let api: TestApi;
let admin: TestStaff;
let moderator: TestStaff;

beforeAll(async () => {
  api = await startApi({ JWT_MAX_TTL_SECONDS: '86400' });
  admin = await createStaff(api, { role: 'admin' });
  moderator = await createStaff(api, { role: 'moderator' });
});
afterEach(async () => {
  jest.useRealTimers();
  await RawGraphqlWs.closeAll();
});
afterAll(async () => {
  await api?.stop();
});

const ME = `{ me { id plan region ageBand suspended username } }`;
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq body } }`;
const CREATE_GROUP = `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`;
const UPDATE_GROUP = `mutation($g: ID!, $i: UpdateGroupInput!) { updateGroup(groupId: $g, input: $i) { id title } }`;
const GROUP = `query($g: ID!) { group(id: $g) { id title memberCount } }`;
const EVENTS = `subscription($g: ID!, $a: Int) { groupEvents(groupId: $g, afterSeq: $a) { seq type message { body } } }`;
const SUSPEND = `mutation($id: ID!) { suspendUser(id: $id, reason: "spam wave") { id suspended } }`;
const DECIDE = `mutation($id: ID!, $d: CaseDecision!, $r: String!) { decideSafetyCase(id: $id, decision: $d, reason: $r) { id status } }`;

const socket = (token: string) => RawGraphqlWs.connect(api.wsUrl, token);
const codeOf = (r: RawResult) => r.errors?.[0]?.extensions?.code;
/** The close of a socket, or a failure after `ms` (a close that never comes must not hang the suite). */
const closeOf = (s: RawGraphqlWs, ms = 10_000) =>
  Promise.race([s.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms).unref())]);
const send = (s: RawGraphqlWs, groupId: string, body: string) => s.run(SEND, { i: { groupId, body, clientMessageId: randomUUID() } });

const sign = (claims: { exp?: number; iat?: number; sub?: string; [k: string]: unknown }) => {
  const { exp, iat, sub, ...rest } = claims;
  let jwt = new SignJWT({ plan: 'plus', region: 'DE', age_band: 'adult', ...rest }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub ?? `user-${randomUUID()}`);
  if (iat !== undefined) jwt = jwt.setIssuedAt(iat);
  if (exp !== undefined) jwt = jwt.setExpirationTime(exp);
  return jwt.sign(new TextEncoder().encode(TEST_SECRET));
};
const nowS = () => Math.floor(Date.now() / 1000);

async function groupWith(owner: TestUser, ...members: TestUser[]): Promise<string> {
  return api.group(owner, members, 'Before');
}

describe('a socket opened before its user was suspended', () => {
  it('refuses sendMessage, createGroup, updateGroup and @AI with SUSPENDED, while reading goes on', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await groupWith(alice, bob);
    const s = await socket(alice.token);
    // Control: the socket can write before the suspension.
    expect((await send(s, groupId, 'before')).errors).toBeUndefined();

    // Suspended in the database directly: nothing tells the socket, so only the per-operation check can refuse.
    await api.query(`UPDATE users SET suspended_at = now(), suspended_reason = 'test' WHERE id = $1`, [alice.id]);
    const before = await api.query(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1`, [groupId]);

    expect(codeOf(await send(s, groupId, 'after'))).toBe('SUSPENDED');
    expect(codeOf(await send(s, groupId, '@AI what should we eat tonight?'))).toBe('SUSPENDED');
    expect(codeOf(await s.run(CREATE_GROUP, { i: { title: 'New' } }))).toBe('SUSPENDED');
    expect(codeOf(await s.run(UPDATE_GROUP, { g: groupId, i: { title: 'Renamed' } }))).toBe('SUSPENDED');

    expect(await api.query(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1`, [groupId])).toEqual(before);
    expect(await api.query(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1 AND kind = 'AI'`, [groupId])).toEqual([{ n: 0 }]);
    expect(await api.query(`SELECT title FROM groups WHERE owner_id = $1`, [alice.id])).toEqual([{ title: 'Before' }]);
    // Suspended users still read (docs/product.md §1), on the same socket.
    expect((await s.run(GROUP, { g: groupId })).data.group).toMatchObject({ id: groupId, title: 'Before' });
    expect((await s.run(ME)).data.me).toMatchObject({ id: alice.id, suspended: true });
    expect(s.isOpen).toBe(true);
  });

  it('is closed with 4403 "Account suspended" when an admin suspends the user, and other users\' sockets carry on', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await groupWith(alice, bob);
    const aliceSocket = await socket(alice.token);
    const aliceOther = await socket(alice.token);
    const bobSocket = await socket(bob.token);
    expect((await send(aliceSocket, groupId, 'hello')).errors).toBeUndefined();

    const r = await staffOk(api, admin.token, SUSPEND, { id: alice.id });
    expect(r.suspendUser).toEqual({ id: alice.id, suspended: true });

    expect(await closeOf(aliceSocket)).toEqual({ code: 4403, reason: 'Account suspended' });
    expect(await closeOf(aliceOther)).toEqual({ code: 4403, reason: 'Account suspended' });
    await expect(send(aliceSocket, groupId, 'still here?')).rejects.toBeInstanceOf(SocketClosed);
    expect(bobSocket.isOpen).toBe(true);
    expect((await send(bobSocket, groupId, 'bob carries on')).errors).toBeUndefined();
  });

  it('is closed when a moderator suspends the author of a case; back on a new socket the user reads but cannot write', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await groupWith(alice, bob);
    const s = await socket(alice.token);
    const m = (await send(s, groupId, 'you are all idiots')).data.sendMessage;
    await api.ok(bob.token, `mutation($m: ID!) { reportMessage(messageId: $m, reason: "rude") { id } }`, { m: m.id });
    const [c] = await api.query(`SELECT id FROM safety_cases WHERE message_id = $1`, [m.id]);

    await staffOk(api, moderator.token, DECIDE, { id: c.id, d: 'SUSPEND_AUTHOR', r: 'abuse' });
    expect(await closeOf(s)).toEqual({ code: 4403, reason: 'Account suspended' });

    const again = await socket(alice.token);
    const seen: RawResult[] = [];
    const live = new Promise<void>((resolve) => again.subscribe(EVENTS, { g: groupId, a: m.seq - 1 }, (p) => (seen.push(p), resolve())));
    await live;
    expect(seen[0].data.groupEvents).toMatchObject({ seq: m.seq, type: 'MESSAGE_CREATED' });
    expect(codeOf(await send(again, groupId, 'let me back in'))).toBe('SUSPENDED');
  });
});

describe('a socket carries the current user row, read per operation as over HTTP', () => {
  it('sees a public profile set over HTTP after the socket opened', async () => {
    const user = await api.user({ profile: false });
    const s = await socket(user.token);
    expect(codeOf(await s.run(CREATE_GROUP, { i: { title: 'Too early' } }))).toBe('PROFILE_REQUIRED');
    await api.ok(user.token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, {
      i: { displayName: 'Late Lia', username: `lia_${randomUUID().slice(0, 8)}`, photoUrl: 'https://example.test/lia.png' },
    });
    const r = await s.run(CREATE_GROUP, { i: { title: 'Now' } });
    expect(r.errors).toBeUndefined();
    expect(r.data.createGroup.id).toEqual(expect.any(String));
  });

  it('applies its token\'s claims (parental switch, plan, region) to the user row as an HTTP request with that token does', async () => {
    const sub = `user-${randomUUID()}`;
    // The parent turned group chats off: the newer token says so. An older token, issued before, still says on.
    const off = { sub, plan: 'free' as const, region: 'JP', age: 'minor' as const, parentalGroupChats: false };
    const on = { sub, plan: 'pro' as const, region: 'NZ', age: 'minor' as const, parentalGroupChats: true };
    const user = await api.user(off);
    const onToken = await api.token(on);
    const row = async () => (await api.query(`SELECT plan, region, parental_group_chats AS p FROM users WHERE id = $1`, [user.id]))[0];

    const offSocket = await socket(user.token);
    const onSocket = await socket(onToken);
    // Each operation re-applies the claims of the token it arrives with, exactly as HTTP does.
    for (const [label, run] of [
      ['http', (token: string, q: string, v?: Record<string, unknown>) => api.gql(token, q, v)],
      ['ws', (token: string, q: string, v?: Record<string, unknown>) => (token === onToken ? onSocket : offSocket).run(q, v)],
    ] as const) {
      const refused = await run(user.token, CREATE_GROUP, { i: { title: `off over ${label}` } });
      expect([label, codeOf(refused)]).toEqual([label, 'FORBIDDEN']);
      expect([label, await row()]).toEqual([label, { plan: 'free', region: 'JP', p: false }]);
      const me = await run(onToken, ME);
      expect([label, me.data.me]).toMatchObject([label, { plan: 'pro', region: 'NZ' }]);
      expect([label, await row()]).toEqual([label, { plan: 'pro', region: 'NZ', p: true }]);
      const allowed = await run(onToken, CREATE_GROUP, { i: { title: `on over ${label}` } });
      expect([label, allowed.errors]).toEqual([label, undefined]);
      const again = await run(user.token, ME);
      expect([label, again.data.me]).toMatchObject([label, { plan: 'free', region: 'JP' }]);
      expect([label, await row()]).toEqual([label, { plan: 'free', region: 'JP', p: false }]);
    }
  });
});

describe('token expiry', () => {
  it('closes a socket with 4403 "Token expired" when its token expires', async () => {
    const user = await api.user();
    // A few seconds: long enough to connect and run one operation on a loaded machine.
    const token = await sign({ sub: user.sub, iat: nowS(), exp: nowS() + 3 });
    const s = await socket(token);
    expect((await s.run(ME)).data.me.id).toBe(user.id);
    expect(await closeOf(s)).toEqual({ code: 4403, reason: 'Token expired' });
  });

  it('refuses an operation that arrives after exp with UNAUTHENTICATED, even before the socket is closed', async () => {
    const user = await api.user();
    const groupId = await api.group(user);
    const token = await sign({ sub: user.sub, iat: nowS(), exp: nowS() + 3600 });
    const s = await socket(token);
    expect((await send(s, groupId, 'in time')).errors).toBeUndefined();
    // The service's clock moves past exp, its timers do not: the close has not happened yet.
    jest.useFakeTimers({ doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'], now: Date.now() + 2 * 3600_000, advanceTimers: true });
    expect(codeOf(await send(s, groupId, 'too late'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await s.run(ME))).toBe('UNAUTHENTICATED');
    expect(codeOf(await s.run(GROUP, { g: groupId }))).toBe('UNAUTHENTICATED');
    jest.useRealTimers();
    // The token was verified (and remembered by the verifier cache) before exp: the cache did not answer for it after.
    expect(await api.query(`SELECT body FROM messages WHERE group_id = $1 AND kind = 'USER'`, [groupId])).toEqual([{ body: 'in time' }]);
  });
});

describe('token lifetime', () => {
  it('refuses a token without exp on HTTP (401) and on connection_init (4403)', async () => {
    const token = await sign({ iat: nowS() });
    const r = await api.gql(token, ME);
    expect(r.status).toBe(401);
    expect(errorOf(r).code).toBe('UNAUTHENTICATED');
    expect(await wsConnectionOutcome(api, token)).toBe(4403);
  });

  it('refuses a token living longer than JWT_MAX_TTL_SECONDS, measured from iat or, without one, from now', async () => {
    const tooLong = await sign({ iat: nowS(), exp: nowS() + 86400 + 60 });
    const noIatTooLong = await sign({ exp: nowS() + 86400 + 60 });
    const futureIat = await sign({ iat: nowS() + 86400, exp: nowS() + 86400 + 3600 });
    for (const token of [tooLong, noIatTooLong, futureIat]) {
      const r = await api.gql(token, ME);
      expect([r.status, errorOf(r).code]).toEqual([401, 'UNAUTHENTICATED']);
      expect(await wsConnectionOutcome(api, token)).toBe(4403);
    }
    // Control: just inside the limit, with and without iat.
    for (const token of [await sign({ iat: nowS(), exp: nowS() + 86400 - 60 }), await sign({ exp: nowS() + 3600 })]) {
      const r = await api.gql(token, ME);
      expect([r.status, r.errors]).toEqual([200, undefined]);
      expect(await wsConnectionOutcome(api, token)).toBe('connected');
    }
  });
});
