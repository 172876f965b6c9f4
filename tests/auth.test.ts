import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { errorOf, startApi, TEST_SECRET, TestApi, wsConnectionOutcome } from './support/harness';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

const ME = `{ me { id plan region ageBand username displayName photoUrl hasPublicProfile suspended } }`;
const CREATE_GROUP = `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`;
const UPSERT_PROFILE = `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id username displayName photoUrl } }`;
const GROUP = `query($id: ID!) { group(id: $id) { id title memberCount } }`;

const sign = (claims: Record<string, unknown>, secret = TEST_SECRET, exp: number | string = '1h') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`user-${randomUUID()}`)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));

describe('tokens', () => {
  it('refuses `me` and mutations without a token with UNAUTHENTICATED', async () => {
    const me = await api.gql(null, ME);
    expect(errorOf(me).code).toBe('UNAUTHENTICATED');
    expect(me.data).toBeNull();
    const create = await api.gql(null, CREATE_GROUP, { i: { title: 'No token' } });
    expect(errorOf(create).code).toBe('UNAUTHENTICATED');
    const [{ count }] = await api.query<{ count: number }>(`SELECT count(*)::int AS count FROM groups`);
    expect(count).toBe(0);
  });

  it('accepts a token signed with the configured secret (control for the refusals below)', async () => {
    const r = await api.gql(await sign({ plan: 'plus', region: 'DE', age_band: 'adult' }), ME);
    expect(r.errors).toBeUndefined();
    expect(r.data.me).toMatchObject({ plan: 'plus', region: 'DE', ageBand: 'adult' });
  });

  it('refuses a token signed with the wrong secret', async () => {
    const token = await sign({ plan: 'plus' }, 'another-secret-that-is-long-enough-for-hs256-xyz');
    const r = await api.gql(token, ME);
    expect(errorOf(r).code).toBe('UNAUTHENTICATED');
    expect(r.data ?? null).toBeNull();
  });

  it('refuses an expired token', async () => {
    const token = await sign({ plan: 'plus' }, TEST_SECRET, Math.floor(Date.now() / 1000) - 60);
    const r = await api.gql(token, ME);
    expect(errorOf(r).code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['an unknown plan', { plan: 'gold' }],
    ['a region that is not an ISO country code', { region: 'japan' }],
    ['an unknown age band', { age_band: 'senior' }],
  ])('refuses a token with %s', async (_name, claims) => {
    const r = await api.gql(await sign({ plan: 'free', ...claims }), ME);
    expect(errorOf(r).code).toBe('UNAUTHENTICATED');
  });

  it('refuses an unsigned token (alg none) and a token without a subject', async () => {
    const unsigned = new UnsecuredJWT({ plan: 'plus' }).setSubject(`user-${randomUUID()}`).setIssuedAt().setExpirationTime('1h').encode();
    expect(errorOf(await api.gql(unsigned, ME)).code).toBe('UNAUTHENTICATED');
    const noSub = await new SignJWT({ plan: 'plus' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET));
    expect(errorOf(await api.gql(noSub, ME)).code).toBe('UNAUTHENTICATED');
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const r = await api.gql(null, ME, {}, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    expect(errorOf(r).code).toBe('UNAUTHENTICATED');
  });

  it('upserts the claims on every request: a new token with another plan changes me.plan', async () => {
    const sub = `user-${randomUUID()}`;
    const free = await api.ok(await api.token({ sub, plan: 'free', region: 'JP' }), ME);
    expect(free.me).toMatchObject({ plan: 'free', region: 'JP' });
    const pro = await api.ok(await api.token({ sub, plan: 'pro', region: 'NZ' }), ME);
    expect(pro.me).toMatchObject({ id: free.me.id, plan: 'pro', region: 'NZ' });
    const [row] = await api.query(`SELECT plan, region FROM users WHERE subject = $1`, [sub]);
    expect(row).toEqual({ plan: 'pro', region: 'NZ' });
  });

  it('signs in a new user whose first requests arrive in parallel, creating one account', async () => {
    // Each round is a new subject whose first 20 requests race to insert the user row.
    for (let round = 0; round < 25; round++) {
      const sub = `user-${randomUUID()}`;
      const token = await api.token({ sub });
      const results = await Promise.all(Array.from({ length: 20 }, () => api.gql(token, `{ me { id } }`)));
      expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
      expect(new Set(results.map((r) => r.data.me.id)).size).toBe(1);
      const [{ count }] = await api.query<{ count: number }>(`SELECT count(*)::int AS count FROM users WHERE subject = $1`, [sub]);
      expect(count).toBe(1);
    }
  });
});

describe('graphql-ws authentication', () => {
  it('accepts a connection with a valid token (control)', async () => {
    const user = await api.user();
    expect(await wsConnectionOutcome(api, user.token)).toBe('connected');
  });

  it('closes a connection without a token with 4403', async () => {
    expect(await wsConnectionOutcome(api, null)).toBe(4403);
  });

  it('closes a connection with a bad token with 4403', async () => {
    expect(await wsConnectionOutcome(api, 'not-a-jwt')).toBe(4403);
    const wrongSecret = await sign({ plan: 'plus' }, 'another-secret-that-is-long-enough-for-hs256-xyz');
    expect(await wsConnectionOutcome(api, wrongSecret)).toBe(4403);
    const expired = await sign({ plan: 'plus' }, TEST_SECRET, Math.floor(Date.now() / 1000) - 60);
    expect(await wsConnectionOutcome(api, expired)).toBe(4403);
  });
});

describe('public profile', () => {
  it('is required to create a group', async () => {
    const user = await api.user({ profile: false });
    const r = await api.gql(user.token, CREATE_GROUP, { i: { title: 'Plans' } });
    expect(errorOf(r).code).toBe('PROFILE_REQUIRED');
  });

  it('is required to join a group', async () => {
    const owner = await api.user();
    const groupId = await api.group(owner);
    const invite = await api.ok(owner.token, `mutation($g: ID!) { createInvite(groupId: $g) { token } }`, { g: groupId });
    const user = await api.user({ profile: false });
    const r = await api.gql(user.token, `mutation($t: String!) { joinGroup(token: $t) { id } }`, { t: invite.createInvite.token });
    expect(errorOf(r).code).toBe('PROFILE_REQUIRED');
    const members = await api.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, user.id]);
    expect(members).toHaveLength(0);
  });

  it('is stored and shown in me', async () => {
    const user = await api.user({ profile: false });
    const r = await api.ok(user.token, UPSERT_PROFILE, { i: { displayName: '  Ada  ', username: 'ada.l_1', photoUrl: 'https://example.test/ada.png' } });
    expect(r.upsertProfile).toEqual({ id: user.id, displayName: 'Ada', username: 'ada.l_1', photoUrl: 'https://example.test/ada.png' });
    const me = await api.ok(user.token, ME);
    expect(me.me).toMatchObject({ username: 'ada.l_1', hasPublicProfile: true });
  });

  it('refuses a username someone else has with USERNAME_TAKEN and leaves their profile alone', async () => {
    const first = await api.user({ username: 'taken_name' });
    const second = await api.user({ profile: false });
    const r = await api.gql(second.token, UPSERT_PROFILE, {
      i: { displayName: 'Impostor', username: 'taken_name', photoUrl: 'https://example.test/impostor.png' },
    });
    expect(errorOf(r).code).toBe('BAD_USER_INPUT');
    expect(errorOf(r).extensions.reason).toBe('USERNAME_TAKEN');
    const mine = await api.ok(first.token, ME);
    expect(mine.me).toMatchObject({ id: first.id, username: 'taken_name', displayName: 'User taken_name', photoUrl: 'https://example.test/taken_name.png' });
    const theirs = await api.ok(second.token, ME);
    expect(theirs.me).toMatchObject({ username: null, displayName: null, hasPublicProfile: false });
  });

  it('gives a username claimed by several people at once to exactly one of them', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => api.user({ profile: false })));
    const results = await Promise.all(
      users.map((u, i) => api.gql(u.token, UPSERT_PROFILE, { i: { displayName: `Racer ${i}`, username: 'popular_name', photoUrl: 'https://example.test/p.png' } })),
    );
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) expect(errorOf(r).extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'USERNAME_TAKEN' });
    const rows = await api.query(`SELECT id FROM users WHERE username = 'popular_name'`);
    expect(rows).toEqual([{ id: winners[0].data.upsertProfile.id }]);
  });

  it.each([
    ['an upper-case scheme', 'HTTPS://example.test/a.png', 'https://example.test/a.png'],
    ['surrounding spaces', '  https://example.test/a.png ', 'https://example.test/a.png'],
    ['no slashes after the scheme', 'https:example.test/a.png', 'https://example.test/a.png'],
  ])('accepts an https photo URL with %s and stores its canonical form', async (_name, photoUrl, stored) => {
    const user = await api.user({ profile: false });
    const r = await api.gql(user.token, UPSERT_PROFILE, { i: { displayName: 'Ada', username: `ok_${randomUUID().slice(0, 8)}`, photoUrl } });
    expect(r.errors).toBeUndefined();
    expect(r.data.upsertProfile.photoUrl).toBe(stored);
    expect((await api.ok(user.token, ME)).me).toMatchObject({ photoUrl: stored, hasPublicProfile: true });
  });

  it.each([
    ['a 2-character username', { username: 'ab' }],
    ['an upper-case username', { username: 'AB' }],
    ['a 31-character username', { username: 'a'.repeat(31) }],
    ['a username with a dash', { username: 'ada-l' }],
    ['an http photo URL', { photoUrl: 'http://example.test/a.png' }],
    ['a photo URL that is not a URL', { photoUrl: 'not a url' }],
    ['an empty display name', { displayName: '   ' }],
    ['a 51-character display name', { displayName: 'x'.repeat(51) }],
    ['a display name with a NUL character', { displayName: 'Ada\u0000' }],
  ])('rejects %s with BAD_USER_INPUT', async (_name, fields) => {
    const user = await api.user({ profile: false });
    const r = await api.gql(user.token, UPSERT_PROFILE, {
      i: { displayName: 'Ada', username: `ok_${randomUUID().slice(0, 8)}`, photoUrl: 'https://example.test/a.png', ...fields },
    });
    expect(errorOf(r).code).toBe('BAD_USER_INPUT');
    const me = await api.ok(user.token, ME);
    expect(me.me.hasPublicProfile).toBe(false);
  });
});

describe('suspension and parental controls', () => {
  it('a suspended user cannot send or create groups but can still read their group', async () => {
    const [user, friend] = await api.users(2);
    const groupId = await api.group(user, [friend], 'Before suspension');
    await api.query(`UPDATE users SET suspended_at = now(), suspended_reason = 'test' WHERE id = $1`, [user.id]);

    const send = await api.gql(user.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, {
      i: { groupId, body: 'hello', clientMessageId: randomUUID() },
    });
    expect(errorOf(send).code).toBe('SUSPENDED');
    const create = await api.gql(user.token, CREATE_GROUP, { i: { title: 'After suspension' } });
    expect(errorOf(create).code).toBe('SUSPENDED');

    const read = await api.gql(user.token, GROUP, { id: groupId });
    expect(read.errors).toBeUndefined();
    expect(read.data.group).toEqual({ id: groupId, title: 'Before suspension', memberCount: 2 });
    expect((await api.ok(user.token, ME)).me.suspended).toBe(true);

    const [{ count }] = await api.query<{ count: number }>(`SELECT count(*)::int AS count FROM messages WHERE group_id = $1`, [groupId]);
    expect(count).toBe(0);
  });

  it('a minor whose parent turned group chats off cannot create or join a group', async () => {
    const minor = await api.user({ age: 'minor', parentalGroupChats: false });
    const r = await api.gql(minor.token, CREATE_GROUP, { i: { title: 'Sleepover' } });
    expect(errorOf(r).code).toBe('FORBIDDEN');
    const owner = await api.user();
    const groupId = await api.group(owner);
    const invite = await api.ok(owner.token, `mutation($g: ID!) { createInvite(groupId: $g) { token } }`, { g: groupId });
    const join = await api.gql(minor.token, `mutation($t: String!) { joinGroup(token: $t) { id } }`, { t: invite.createInvite.token });
    expect(errorOf(join).code).toBe('FORBIDDEN');
    expect(await api.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, minor.id])).toHaveLength(0);

    const allowed = await api.user({ age: 'minor', parentalGroupChats: true });
    const ok = await api.gql(allowed.token, CREATE_GROUP, { i: { title: 'Sleepover' } });
    expect(ok.errors).toBeUndefined();
  });
});
