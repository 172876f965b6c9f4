import { randomUUID } from 'node:crypto';
import { errorOf, startApi, TestApi, TestUser } from './support/harness';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

const CREATE_GROUP = `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id title memberCount ownerId safetyProfile members { user { id } role } } }`;
const GROUP = `query($id: ID!) {
  group(id: $id) {
    id title customInstructions aiMode safetyProfile memberCount ownerId closed
    owner { id }
    members { user { id username } role joinedAt }
    myMembership { role muted mutedUntil }
  }
}`;
const UPDATE_GROUP = `mutation($g: ID!, $i: UpdateGroupInput!) { updateGroup(groupId: $g, input: $i) { id title customInstructions aiMode } }`;
const ADD_MEMBERS = `mutation($g: ID!, $u: [String!]!) { addMembers(groupId: $g, usernames: $u) { id memberCount } }`;
const REMOVE_MEMBER = `mutation($g: ID!, $u: ID!) { removeMember(groupId: $g, userId: $u) { id memberCount } }`;
const LEAVE = `mutation($g: ID!) { leaveGroup(groupId: $g) }`;
const TRANSFER = `mutation($g: ID!, $u: ID!) { transferOwnership(groupId: $g, userId: $u) { id ownerId } }`;
const MUTE = `mutation($g: ID!, $until: DateTimeISO, $forever: Boolean! = false) { muteGroup(groupId: $g, until: $until, forever: $forever) { muted mutedUntil } }`;
const CREATE_INVITE = `mutation($g: ID!) { createInvite(groupId: $g) { token } }`;
const JOIN = `mutation($t: String!) { joinGroup(token: $t) { id memberCount } }`;
const GROUPS = `query($first: Int!, $after: String) { groups(first: $first, after: $after) { edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }`;

const readGroup = async (user: TestUser, id: string) => (await api.ok(user.token, GROUP, { id })).group;
const count = async (sql: string, params: unknown[] = []) => (await api.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n;
const codes = (results: Array<{ errors?: Array<{ extensions?: { code?: string } }> }>) =>
  results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();

describe('creating a group', () => {
  it('makes the creator the owner and adds the named members', async () => {
    const [alice, bob, carol] = await api.users(3);
    const r = await api.ok(alice.token, CREATE_GROUP, { i: { title: '  Trip to Kyoto  ', memberUsernames: [bob.username, carol.username.toUpperCase()] } });
    const group = r.createGroup;
    expect(group).toMatchObject({ title: 'Trip to Kyoto', memberCount: 3, ownerId: alice.id });
    const roles = Object.fromEntries(group.members.map((m: any) => [m.user.id, m.role]));
    expect(roles).toEqual({ [alice.id]: 'OWNER', [bob.id]: 'MEMBER', [carol.id]: 'MEMBER' });
    // Members see the group too.
    expect(await readGroup(carol, group.id)).toMatchObject({ memberCount: 3, ownerId: alice.id, owner: { id: alice.id } });
  });

  it('rejects unknown usernames with BAD_USER_INPUT and creates nothing', async () => {
    const [alice, bob] = await api.users(2);
    const groupsBefore = await count('groups');
    const membersBefore = await count('group_members');
    const r = await api.gql(alice.token, CREATE_GROUP, { i: { title: 'Nope', memberUsernames: [bob.username, 'nobody_by_this_name'] } });
    expect(errorOf(r).code).toBe('BAD_USER_INPUT');
    expect(errorOf(r).extensions.usernames).toEqual(['nobody_by_this_name']);
    expect(await count('groups')).toBe(groupsBefore);
    expect(await count('group_members')).toBe(membersBefore);
  });

  it('refuses to add people who cannot be in group chats (suspended, parental block) with FORBIDDEN', async () => {
    const [alice, bob, suspended] = await api.users(3);
    const blockedMinor = await api.user({ age: 'minor', parentalGroupChats: false });
    await api.query(`UPDATE users SET suspended_at = now() WHERE id = $1`, [suspended.id]);
    const groupsBefore = await count('groups');
    for (const u of [suspended, blockedMinor]) {
      const r = await api.gql(alice.token, CREATE_GROUP, { i: { title: 'Nope', memberUsernames: [bob.username, u.username] } });
      expect(errorOf(r).code).toBe('FORBIDDEN');
    }
    expect(await count('groups')).toBe(groupsBefore);

    const groupId = await api.group(alice, [bob]);
    for (const u of [suspended, blockedMinor]) {
      const r = await api.gql(bob.token, ADD_MEMBERS, { g: groupId, u: [u.username] });
      expect(errorOf(r).code).toBe('FORBIDDEN');
    }
    expect(await count('group_members WHERE group_id = $1', [groupId])).toBe(2);
  });

  it('refuses a group of the creator and 20 others with GROUP_FULL, and allows 19 others', async () => {
    const [owner, ...others] = await api.users(21);
    const groupsBefore = await count('groups');
    const full = await api.gql(owner.token, CREATE_GROUP, { i: { title: 'Too many', memberUsernames: others.map((o) => o.username) } });
    expect(errorOf(full).code).toBe('GROUP_FULL');
    expect(await count('groups')).toBe(groupsBefore);
    const ok = await api.ok(owner.token, CREATE_GROUP, { i: { title: 'Just right', memberUsernames: others.slice(0, 19).map((o) => o.username) } });
    expect(ok.createGroup.memberCount).toBe(20);
  });
});

describe('the member limit under concurrency', () => {
  it('admits exactly one of 30 parallel joins into a group with one seat left', async () => {
    const [owner, ...members] = await api.users(19);
    const joiners = await api.users(30);
    const groupId = await api.group(owner, members);
    expect((await readGroup(owner, groupId)).memberCount).toBe(19);
    const { createInvite } = await api.ok(owner.token, CREATE_INVITE, { g: groupId });

    const results = await Promise.all(joiners.map((j) => api.gql(j.token, JOIN, { t: createInvite.token })));

    expect(codes(results)).toEqual([...Array(29).fill('GROUP_FULL'), 'OK']);
    const [group] = await api.query(`SELECT member_count AS "memberCount" FROM groups WHERE id = $1`, [groupId]);
    expect(group.memberCount).toBe(20);
    expect(await count('group_members WHERE group_id = $1', [groupId])).toBe(20);
    const winner = joiners[results.findIndex((r) => !r.errors)];
    expect(await count('group_members WHERE group_id = $1 AND user_id = $2', [groupId, winner.id])).toBe(1);
    const [invite] = await api.query(`SELECT uses FROM invites WHERE group_id = $1`, [groupId]);
    expect(invite.uses).toBe(1);
  });

  it('admits exactly one of several members adding different people for the last seat in parallel', async () => {
    const [owner, ...members] = await api.users(19);
    const outsiders = await api.users(6);
    const groupId = await api.group(owner, members);
    const adders = [owner, ...members.slice(0, 5)];

    const results = await Promise.all(adders.map((a, i) => api.gql(a.token, ADD_MEMBERS, { g: groupId, u: [outsiders[i].username] })));

    expect(codes(results)).toEqual(['GROUP_FULL', 'GROUP_FULL', 'GROUP_FULL', 'GROUP_FULL', 'GROUP_FULL', 'OK']);
    expect((await readGroup(owner, groupId)).memberCount).toBe(20);
    expect(await count('group_members WHERE group_id = $1', [groupId])).toBe(20);
  });
});

describe('privacy of groups', () => {
  let owner: TestUser;
  let outsider: TestUser;
  let hiddenId: string;
  beforeAll(async () => {
    [owner, outsider] = await api.users(2);
    hiddenId = await api.group(owner, [], 'Secret plans');
  });

  /** The first error of the operation for each id: hidden group, random uuid, not a uuid. */
  const errorsFor = async (query: string, vars: (id: string) => Record<string, unknown>) => {
    const ids = [hiddenId, randomUUID(), 'not-a-uuid'];
    const results = await Promise.all(ids.map((id) => api.gql(outsider.token, query, vars(id))));
    return results.map((r) => {
      const e = errorOf(r);
      return { code: e.code, message: e.message, data: r.data ?? null };
    });
  };

  it('a non-member querying a group gets the same NOT_FOUND as for a missing id', async () => {
    const [hidden, random, garbage] = await errorsFor(GROUP, (id) => ({ id }));
    expect(hidden).toEqual({ code: 'NOT_FOUND', message: expect.any(String), data: null });
    expect(random).toEqual(hidden);
    expect(garbage).toEqual(hidden);
  });

  it.each([
    ['updateGroup', UPDATE_GROUP, (id: string) => ({ g: id, i: { title: 'Mine now' } })],
    ['addMembers', ADD_MEMBERS, (id: string) => ({ g: id, u: ['somebody_else'] })],
    ['createInvite', CREATE_INVITE, (id: string) => ({ g: id })],
    ['resetInvites', `mutation($g: ID!) { resetInvites(groupId: $g) { token } }`, (id: string) => ({ g: id })],
    ['removeMember', REMOVE_MEMBER, (id: string) => ({ g: id, u: randomUUID() })],
    ['leaveGroup', LEAVE, (id: string) => ({ g: id })],
    ['transferOwnership', TRANSFER, (id: string) => ({ g: id, u: randomUUID() })],
    ['muteGroup', MUTE, (id: string) => ({ g: id, forever: true })],
  ])('a non-member calling %s on a hidden group gets the same NOT_FOUND as for a missing id', async (_name, query, vars) => {
    const [hidden, random, garbage] = await errorsFor(query, vars);
    expect(hidden.code).toBe('NOT_FOUND');
    expect(random).toEqual(hidden);
    expect(garbage).toEqual(hidden);
  });

  it('leaves the hidden group untouched after the attempts above', async () => {
    const group = await readGroup(owner, hiddenId);
    expect(group).toMatchObject({ title: 'Secret plans', memberCount: 1, ownerId: owner.id });
    expect(await count('invites WHERE group_id = $1', [hiddenId])).toBe(0);
  });
});

describe('membership', () => {
  it('the owner cannot be removed', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const r = await api.gql(bob.token, REMOVE_MEMBER, { g: groupId, u: alice.id });
    expect(errorOf(r).code).toBe('FORBIDDEN');
    expect(await readGroup(alice, groupId)).toMatchObject({ memberCount: 2, ownerId: alice.id });
  });

  it('a member can remove another member, who then loses access', async () => {
    const [alice, bob, carol] = await api.users(3);
    const groupId = await api.group(alice, [bob, carol]);
    const r = await api.ok(bob.token, REMOVE_MEMBER, { g: groupId, u: carol.id });
    expect(r.removeMember.memberCount).toBe(2);
    const members = (await readGroup(alice, groupId)).members.map((m: any) => m.user.id);
    expect(members.sort()).toEqual([alice.id, bob.id].sort());
    expect(errorOf(await api.gql(carol.token, GROUP, { id: groupId })).code).toBe('NOT_FOUND');
  });

  it('when the owner leaves, the longest-standing member becomes the owner', async () => {
    const [alice, bob, carol, dave] = await api.users(4);
    const groupId = await api.group(alice);
    // Added one at a time so the joining order is known: bob, then carol, then dave.
    for (const u of [bob, carol, dave]) await api.ok(alice.token, ADD_MEMBERS, { g: groupId, u: [u.username] });

    expect((await api.ok(alice.token, LEAVE, { g: groupId })).leaveGroup).toBe(true);

    const group = await readGroup(dave, groupId);
    expect(group).toMatchObject({ ownerId: bob.id, memberCount: 3, owner: { id: bob.id } });
    const roles = Object.fromEntries(group.members.map((m: any) => [m.user.id, m.role]));
    expect(roles).toEqual({ [bob.id]: 'OWNER', [carol.id]: 'MEMBER', [dave.id]: 'MEMBER' });
    expect(errorOf(await api.gql(alice.token, GROUP, { id: groupId })).code).toBe('NOT_FOUND');
  });

  it('the last member leaving closes the group and invalidates its invites', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice);
    const { createInvite } = await api.ok(alice.token, CREATE_INVITE, { g: groupId });

    expect((await api.ok(alice.token, LEAVE, { g: groupId })).leaveGroup).toBe(true);

    expect(errorOf(await api.gql(alice.token, GROUP, { id: groupId })).code).toBe('NOT_FOUND');
    const preview = await api.gql(bob.token, `query($t: String!) { invitePreview(token: $t) { title } }`, { t: createInvite.token });
    expect(errorOf(preview).code).toBe('INVITE_INVALID');
    expect(errorOf(await api.gql(bob.token, JOIN, { t: createInvite.token })).code).toBe('INVITE_INVALID');
    const [row] = await api.query(`SELECT closed_at IS NOT NULL AS closed, member_count AS "memberCount" FROM groups WHERE id = $1`, [groupId]);
    expect(row).toEqual({ closed: true, memberCount: 0 });
    expect(await count('group_members WHERE group_id = $1', [groupId])).toBe(0);
  });

  it('only the owner can transfer ownership', async () => {
    const [alice, bob, carol] = await api.users(3);
    const groupId = await api.group(alice, [bob, carol]);

    const byMember = await api.gql(bob.token, TRANSFER, { g: groupId, u: carol.id });
    expect(errorOf(byMember).code).toBe('FORBIDDEN');
    expect((await readGroup(alice, groupId)).ownerId).toBe(alice.id);

    expect((await api.ok(alice.token, TRANSFER, { g: groupId, u: bob.id })).transferOwnership.ownerId).toBe(bob.id);
    const group = await readGroup(carol, groupId);
    const roles = Object.fromEntries(group.members.map((m: any) => [m.user.id, m.role]));
    expect(roles).toEqual({ [alice.id]: 'MEMBER', [bob.id]: 'OWNER', [carol.id]: 'MEMBER' });

    const byFormerOwner = await api.gql(alice.token, TRANSFER, { g: groupId, u: carol.id });
    expect(errorOf(byFormerOwner).code).toBe('FORBIDDEN');
    // The former owner is now an ordinary member and can be removed.
    expect((await api.ok(bob.token, REMOVE_MEMBER, { g: groupId, u: alice.id })).removeMember.memberCount).toBe(2);
  });
});

describe('settings', () => {
  it('updateGroup stores title, custom instructions and AI mode for everyone', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob], 'Before');
    const r = await api.ok(bob.token, UPDATE_GROUP, {
      g: groupId,
      i: { title: 'After', customInstructions: 'Answer in Japanese.', aiMode: 'MENTIONS' },
    });
    expect(r.updateGroup).toEqual({ id: groupId, title: 'After', customInstructions: 'Answer in Japanese.', aiMode: 'MENTIONS' });
    expect(await readGroup(alice, groupId)).toMatchObject({ title: 'After', customInstructions: 'Answer in Japanese.', aiMode: 'MENTIONS' });

    // Fields left out keep their values.
    await api.ok(alice.token, UPDATE_GROUP, { g: groupId, i: { aiMode: 'OFF' } });
    expect(await readGroup(bob, groupId)).toMatchObject({ title: 'After', customInstructions: 'Answer in Japanese.', aiMode: 'OFF' });
  });

  it('rejects a 101-character title with BAD_USER_INPUT and accepts 100', async () => {
    const [alice] = await api.users(1);
    const groupId = await api.group(alice, [], 'Short');
    const long = await api.gql(alice.token, UPDATE_GROUP, { g: groupId, i: { title: 'x'.repeat(101) } });
    expect(errorOf(long).code).toBe('BAD_USER_INPUT');
    expect((await readGroup(alice, groupId)).title).toBe('Short');
    const created = await api.gql(alice.token, CREATE_GROUP, { i: { title: 'y'.repeat(101) } });
    expect(errorOf(created).code).toBe('BAD_USER_INPUT');
    const ok = await api.ok(alice.token, UPDATE_GROUP, { g: groupId, i: { title: 'x'.repeat(100) } });
    expect(ok.updateGroup.title).toBe('x'.repeat(100));
  });

  it('rejects text PostgreSQL cannot store (NUL) in title and custom instructions with BAD_USER_INPUT', async () => {
    const [alice] = await api.users(1);
    const groupId = await api.group(alice, [], 'Clean');
    expect(errorOf(await api.gql(alice.token, CREATE_GROUP, { i: { title: 'a\u0000b' } })).code).toBe('BAD_USER_INPUT');
    expect(errorOf(await api.gql(alice.token, UPDATE_GROUP, { g: groupId, i: { title: 'a\u0000b' } })).code).toBe('BAD_USER_INPUT');
    expect(errorOf(await api.gql(alice.token, UPDATE_GROUP, { g: groupId, i: { customInstructions: 'be\u0000nice' } })).code).toBe('BAD_USER_INPUT');
    expect(await readGroup(alice, groupId)).toMatchObject({ title: 'Clean', customInstructions: '' });
  });

  it('muting until a time, forever, and unmuting show in myMembership', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const until = new Date(Date.now() + 3_600_000);
    until.setMilliseconds(0);

    const timed = await api.ok(alice.token, MUTE, { g: groupId, until: until.toISOString() });
    expect(timed.muteGroup).toEqual({ muted: true, mutedUntil: until.toISOString() });
    expect((await readGroup(alice, groupId)).myMembership).toMatchObject({ role: 'OWNER', muted: true, mutedUntil: until.toISOString() });
    // Muting is per member.
    expect((await readGroup(bob, groupId)).myMembership).toMatchObject({ muted: false, mutedUntil: null });

    await api.ok(alice.token, MUTE, { g: groupId, forever: true });
    expect((await readGroup(alice, groupId)).myMembership).toMatchObject({ muted: true, mutedUntil: null });

    await api.ok(alice.token, MUTE, { g: groupId });
    expect((await readGroup(alice, groupId)).myMembership).toMatchObject({ muted: false, mutedUntil: null });
  });

  it('rejects muting until a time in the past', async () => {
    const [alice] = await api.users(1);
    const groupId = await api.group(alice);
    const r = await api.gql(alice.token, MUTE, { g: groupId, until: new Date(Date.now() - 60_000).toISOString() });
    expect(errorOf(r).code).toBe('BAD_USER_INPUT');
  });
});

describe('listing groups', () => {
  it('pages through the caller’s groups, most recent activity first, without duplicates', async () => {
    const [alice, bob] = await api.users(2);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await api.group(alice, [], `Group ${i}`));
    await api.group(bob, [], 'Not alice’s');
    // Activity in the oldest group moves it to the front.
    await api.ok(alice.token, UPDATE_GROUP, { g: ids[0], i: { title: 'Group 0, renamed' } });
    const expected = [ids[0], ...ids.slice(1).reverse()];

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const r: any = await api.ok(alice.token, GROUPS, { first: 3, after });
      seen.push(...r.groups.edges.map((e: any) => e.node.id));
      pages++;
      if (!r.groups.pageInfo.hasNextPage) break;
      after = r.groups.pageInfo.endCursor;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
  });

  it('rejects a malformed cursor with BAD_USER_INPUT', async () => {
    const [alice] = await api.users(1);
    const r = await api.gql(alice.token, GROUPS, { first: 2, after: 'garbage' });
    expect(errorOf(r).code).toBe('BAD_USER_INPUT');
  });

  it('lists through the caller’s memberships: no index on groups covers the columns every event updates', async () => {
    // Each event bumps last_seq and last_event_at; with neither indexed, that update stays HOT.
    const indexed = await api.query(
      `SELECT DISTINCT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = 'groups'::regclass AND a.attname IN ('last_seq', 'last_event_at')`,
    );
    expect(indexed).toEqual([]);
  });
});

describe('safety profile', () => {
  it('is STANDARD when every member is an adult', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('STANDARD');
  });

  it('is TEEN when a member is of unknown age', async () => {
    const alice = await api.user();
    const unknown = await api.user({ age: undefined });
    const groupId = await api.group(alice, [unknown]);
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('TEEN');
  });

  it('is TEEN while a minor is a member and flips back when the minor leaves', async () => {
    const [alice, bob] = await api.users(2);
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(alice, [bob, minor]);
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('TEEN');

    await api.ok(minor.token, LEAVE, { g: groupId });
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('STANDARD');

    // And flips to TEEN again when a minor joins through an invite.
    const { createInvite } = await api.ok(alice.token, CREATE_INVITE, { g: groupId });
    await api.ok(minor.token, JOIN, { t: createInvite.token });
    expect((await readGroup(bob, groupId)).safetyProfile).toBe('TEEN');

    // Removal counts too.
    await api.ok(bob.token, REMOVE_MEMBER, { g: groupId, u: minor.id });
    expect((await readGroup(bob, groupId)).safetyProfile).toBe('STANDARD');
  });

  it('follows a member whose age claim changes: minor turns the group TEEN, adult turns it back', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const other = await api.group(bob, [], 'Bob alone');
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('STANDARD');

    // The identity provider now says bob is a minor: his next request carries the claim.
    const bobAsMinor = await api.token({ sub: bob.sub, age: 'minor' });
    expect((await api.ok(bobAsMinor, `{ me { ageBand } }`)).me.ageBand).toBe('minor');
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('TEEN');
    expect((await api.ok(bobAsMinor, GROUP, { id: other })).group.safetyProfile).toBe('TEEN');

    await api.ok(bob.token, `{ me { ageBand } }`); // an adult token again
    expect((await readGroup(alice, groupId)).safetyProfile).toBe('STANDARD');
    expect((await readGroup(bob, other)).safetyProfile).toBe('STANDARD');
  });
});

describe('configured limits', () => {
  let small: TestApi;
  beforeAll(async () => {
    small = await startApi({ MAX_GROUP_MEMBERS: '3', UNKNOWN_AGE_IS_MINOR: 'false' });
  });
  afterAll(() => small.stop());

  it('holds a configured member limit on create, add and join', async () => {
    const [owner, a, b, c, d] = await small.users(5);
    const tooMany = await small.gql(owner.token, CREATE_GROUP, { i: { title: 'Four', memberUsernames: [a.username, b.username, c.username] } });
    expect(errorOf(tooMany).code).toBe('GROUP_FULL');
    const groupId = await small.group(owner, [a]);
    await small.ok(owner.token, ADD_MEMBERS, { g: groupId, u: [b.username] });
    expect(errorOf(await small.gql(owner.token, ADD_MEMBERS, { g: groupId, u: [c.username] })).code).toBe('GROUP_FULL');
    const { createInvite } = await small.ok(owner.token, CREATE_INVITE, { g: groupId });
    expect(errorOf(await small.gql(d.token, JOIN, { t: createInvite.token })).code).toBe('GROUP_FULL');
    expect((await small.ok(owner.token, GROUP, { id: groupId })).group.memberCount).toBe(3);
  });

  it('keeps a group with an unknown-age member STANDARD when unknown age is not treated as minor', async () => {
    const owner = await small.user();
    const unknown = await small.user({ age: undefined });
    const minor = await small.user({ age: 'minor' });
    const groupId = await small.group(owner, [unknown]);
    expect((await small.ok(owner.token, GROUP, { id: groupId })).group.safetyProfile).toBe('STANDARD');
    await small.ok(owner.token, ADD_MEMBERS, { g: groupId, u: [minor.username] });
    expect((await small.ok(owner.token, GROUP, { id: groupId })).group.safetyProfile).toBe('TEEN');
  });
});
