import { randomBytes } from 'node:crypto';
import { errorOf, startApi, TestApi, TestUser } from './support/harness';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

const CREATE_INVITE = `mutation($g: ID!, $i: CreateInviteInput) { createInvite(groupId: $g, input: $i) { id groupId token maxUses uses expiresAt revoked } }`;
const RESET_INVITES = `mutation($g: ID!, $i: CreateInviteInput) { resetInvites(groupId: $g, input: $i) { id token } }`;
const PREVIEW = `query($t: String!) { invitePreview(token: $t) { groupId title memberCount alreadyMember members { id } } }`;
const JOIN = `mutation($t: String!) { joinGroup(token: $t) { id memberCount members { user { id } role } } }`;

const createInvite = async (user: TestUser, groupId: string, input: Record<string, unknown> = {}) =>
  (await api.ok(user.token, CREATE_INVITE, { g: groupId, i: input })).createInvite;
const usesOf = async (inviteId: string) => (await api.query(`SELECT uses, max_uses AS "maxUses" FROM invites WHERE id = $1`, [inviteId]))[0];
const memberCount = async (groupId: string) => (await api.query(`SELECT count(*)::int AS n FROM group_members WHERE group_id = $1`, [groupId]))[0].n;
const codes = (results: Array<{ errors?: Array<{ extensions?: { code?: string } }> }>) =>
  results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();

describe('creating and previewing invites', () => {
  it('returns an unguessable token of at least 128 bits, stored only as a hash', async () => {
    const owner = await api.user();
    const groupId = await api.group(owner);
    const a = await createInvite(owner, groupId);
    const b = await createInvite(owner, groupId);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43,}$/); // 43 base64url characters carry 258 bits
    expect(a.token).not.toBe(b.token);
    expect(a).toMatchObject({ groupId, maxUses: null, uses: 0, expiresAt: null, revoked: false });
    const stored = await api.query(`SELECT encode(token_hash, 'escape') AS h FROM invites WHERE group_id = $1`, [groupId]);
    expect(stored.map((s) => s.h)).not.toContain(a.token);
  });

  it('shows the group title and member count in the preview to a non-member', async () => {
    const [owner, bob, outsider] = await api.users(3);
    const groupId = await api.group(owner, [bob], 'Ski weekend');
    const invite = await createInvite(owner, groupId);
    const { invitePreview } = await api.ok(outsider.token, PREVIEW, { t: invite.token });
    expect(invitePreview).toMatchObject({ groupId, title: 'Ski weekend', memberCount: 2, alreadyMember: false });
    expect(invitePreview.members.map((m: any) => m.id)).toEqual([owner.id, bob.id]);
    // Previewing changes nothing.
    expect(await usesOf(invite.id)).toMatchObject({ uses: 0 });
    expect((await api.ok(bob.token, PREVIEW, { t: invite.token })).invitePreview.alreadyMember).toBe(true);
  });

  it('rejects an expiry in the past or too far ahead and max uses out of 1..10000 with BAD_USER_INPUT', async () => {
    const owner = await api.user();
    const groupId = await api.group(owner);
    const past = await api.gql(owner.token, CREATE_INVITE, { g: groupId, i: { expiresAt: new Date(Date.now() - 60_000).toISOString() } });
    expect(errorOf(past).code).toBe('BAD_USER_INPUT');
    const zero = await api.gql(owner.token, CREATE_INVITE, { g: groupId, i: { maxUses: 0 } });
    expect(errorOf(zero).code).toBe('BAD_USER_INPUT');
    const negative = await api.gql(owner.token, CREATE_INVITE, { g: groupId, i: { maxUses: -1 } });
    expect(errorOf(negative).code).toBe('BAD_USER_INPUT');
    const tooMany = await api.gql(owner.token, CREATE_INVITE, { g: groupId, i: { maxUses: 10_001 } });
    expect(errorOf(tooMany).code).toBe('BAD_USER_INPUT');
    const tooLate = await api.gql(owner.token, CREATE_INVITE, { g: groupId, i: { expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() } });
    expect(errorOf(tooLate).code).toBe('BAD_USER_INPUT');
    const resetPast = await api.gql(owner.token, RESET_INVITES, { g: groupId, i: { expiresAt: new Date(Date.now() - 60_000).toISOString() } });
    expect(errorOf(resetPast).code).toBe('BAD_USER_INPUT');
    expect(await api.query(`SELECT 1 FROM invites WHERE group_id = $1`, [groupId])).toHaveLength(0);
  });

  it('stores an expiry and max uses that are valid', async () => {
    const owner = await api.user();
    const groupId = await api.group(owner);
    const expiresAt = new Date(Date.now() + 3_600_000);
    expiresAt.setMilliseconds(0);
    const invite = await createInvite(owner, groupId, { expiresAt: expiresAt.toISOString(), maxUses: 5 });
    expect(invite).toMatchObject({ maxUses: 5, uses: 0, expiresAt: expiresAt.toISOString() });
  });

  it('a non-member cannot create or reset invites for a group (NOT_FOUND)', async () => {
    const [owner, outsider] = await api.users(2);
    const groupId = await api.group(owner);
    expect(errorOf(await api.gql(outsider.token, CREATE_INVITE, { g: groupId })).code).toBe('NOT_FOUND');
    expect(errorOf(await api.gql(outsider.token, RESET_INVITES, { g: groupId })).code).toBe('NOT_FOUND');
    expect(await api.query(`SELECT 1 FROM invites WHERE group_id = $1`, [groupId])).toHaveLength(0);
  });

  it('any member, not only the owner, can share an invite', async () => {
    const [owner, bob, carol] = await api.users(3);
    const groupId = await api.group(owner, [bob]);
    const invite = await createInvite(bob, groupId);
    expect((await api.ok(carol.token, JOIN, { t: invite.token })).joinGroup.memberCount).toBe(3);
  });
});

describe('joining', () => {
  it('adds the joiner as a member and counts one use', async () => {
    const [owner, bob] = await api.users(2);
    const groupId = await api.group(owner);
    const invite = await createInvite(owner, groupId, { maxUses: 2 });
    const { joinGroup } = await api.ok(bob.token, JOIN, { t: invite.token });
    expect(joinGroup).toMatchObject({ id: groupId, memberCount: 2 });
    expect(joinGroup.members).toContainEqual({ user: { id: bob.id }, role: 'MEMBER' });
    expect(await usesOf(invite.id)).toEqual({ uses: 1, maxUses: 2 });
  });

  it('is idempotent for an existing member and does not consume a use', async () => {
    const [owner, bob, carol] = await api.users(3);
    const groupId = await api.group(owner);
    const invite = await createInvite(owner, groupId, { maxUses: 2 });
    await api.ok(bob.token, JOIN, { t: invite.token });

    const again = await api.ok(bob.token, JOIN, { t: invite.token });
    expect(again.joinGroup).toMatchObject({ id: groupId, memberCount: 2 });
    const byOwner = await api.ok(owner.token, JOIN, { t: invite.token });
    expect(byOwner.joinGroup).toMatchObject({ id: groupId, memberCount: 2 });
    expect(await usesOf(invite.id)).toEqual({ uses: 1, maxUses: 2 });
    expect(await memberCount(groupId)).toBe(2);

    // The use that was not consumed is still there for someone new.
    expect((await api.ok(carol.token, JOIN, { t: invite.token })).joinGroup.memberCount).toBe(3);
    expect(await usesOf(invite.id)).toEqual({ uses: 2, maxUses: 2 });
  });

  it('returns the group to a member retrying the join that took the last use, without admitting anyone else', async () => {
    const [owner, bob, carol] = await api.users(3);
    const groupId = await api.group(owner);
    const invite = await createInvite(owner, groupId, { maxUses: 1 });
    await api.ok(bob.token, JOIN, { t: invite.token });

    const retry = await api.gql(bob.token, JOIN, { t: invite.token });
    expect(retry.errors).toBeUndefined();
    expect(retry.data.joinGroup).toMatchObject({ id: groupId, memberCount: 2 });
    expect(errorOf(await api.gql(carol.token, JOIN, { t: invite.token })).code).toBe('INVITE_INVALID');
    expect(await usesOf(invite.id)).toEqual({ uses: 1, maxUses: 1 });
    expect(await memberCount(groupId)).toBe(2);
  });

  it('admits exactly one of 10 people redeeming the last use in parallel; the others get INVITE_INVALID', async () => {
    const owner = await api.user();
    const early = await api.users(2);
    const racers = await api.users(10);
    const groupId = await api.group(owner);
    const invite = await createInvite(owner, groupId, { maxUses: 3 });
    for (const u of early) await api.ok(u.token, JOIN, { t: invite.token });
    expect(await usesOf(invite.id)).toEqual({ uses: 2, maxUses: 3 });

    const results = await Promise.all(racers.map((u) => api.gql(u.token, JOIN, { t: invite.token })));

    expect(codes(results)).toEqual([...Array(9).fill('INVITE_INVALID'), 'OK']);
    expect(await usesOf(invite.id)).toEqual({ uses: 3, maxUses: 3 });
    expect(await memberCount(groupId)).toBe(4);
    const winner = racers[results.findIndex((r) => !r.errors)];
    expect(await api.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, winner.id])).toHaveLength(1);
  });

  it('a used-up invite fails with INVITE_INVALID on preview and join', async () => {
    const [owner, bob, carol] = await api.users(3);
    const groupId = await api.group(owner);
    const invite = await createInvite(owner, groupId, { maxUses: 1 });
    await api.ok(bob.token, JOIN, { t: invite.token });
    expect(errorOf(await api.gql(carol.token, PREVIEW, { t: invite.token })).code).toBe('INVITE_INVALID');
    expect(errorOf(await api.gql(carol.token, JOIN, { t: invite.token })).code).toBe('INVITE_INVALID');
  });

  it('an expired invite fails with INVITE_INVALID on preview and join', async () => {
    const [owner, bob] = await api.users(2);
    const groupId = await api.group(owner);
    const invite = await createInvite(owner, groupId, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    // Control: it works until it expires.
    expect((await api.ok(bob.token, PREVIEW, { t: invite.token })).invitePreview.groupId).toBe(groupId);
    await api.query(`UPDATE invites SET expires_at = now() - interval '1 minute' WHERE id = $1`, [invite.id]);

    expect(errorOf(await api.gql(bob.token, PREVIEW, { t: invite.token })).code).toBe('INVITE_INVALID');
    expect(errorOf(await api.gql(bob.token, JOIN, { t: invite.token })).code).toBe('INVITE_INVALID');
    expect(await memberCount(groupId)).toBe(1);
  });

  it('after resetInvites every earlier token fails and the new one works', async () => {
    const [owner, bob, carol] = await api.users(3);
    const groupId = await api.group(owner, [bob]);
    const first = await createInvite(owner, groupId);
    const second = await createInvite(bob, groupId, { maxUses: 10 });

    const { resetInvites } = await api.ok(bob.token, RESET_INVITES, { g: groupId });
    expect(resetInvites.token).not.toBe(first.token);

    for (const old of [first, second]) {
      expect(errorOf(await api.gql(carol.token, PREVIEW, { t: old.token })).code).toBe('INVITE_INVALID');
      expect(errorOf(await api.gql(carol.token, JOIN, { t: old.token })).code).toBe('INVITE_INVALID');
    }
    expect(await memberCount(groupId)).toBe(2);
    expect((await api.ok(carol.token, JOIN, { t: resetInvites.token })).joinGroup.memberCount).toBe(3);
  });

  it.each([
    ['a random well-formed token', () => randomBytes(32).toString('base64url')],
    ['a garbage string', () => 'not a token at all'],
    ['an empty string', () => ''],
    ['a very long string', () => 'A'.repeat(5000)],
  ])('%s gives INVITE_INVALID on preview and join', async (_name, token) => {
    const user = await api.user();
    const t = token();
    expect(errorOf(await api.gql(user.token, PREVIEW, { t })).code).toBe('INVITE_INVALID');
    expect(errorOf(await api.gql(user.token, JOIN, { t })).code).toBe('INVITE_INVALID');
  });

  it('a member who was removed can come back through a valid invite', async () => {
    const [owner, bob] = await api.users(2);
    const groupId = await api.group(owner, [bob]);
    const invite = await createInvite(owner, groupId);
    await api.ok(owner.token, `mutation($g: ID!, $u: ID!) { removeMember(groupId: $g, userId: $u) { id } }`, { g: groupId, u: bob.id });
    expect((await api.ok(bob.token, JOIN, { t: invite.token })).joinGroup.memberCount).toBe(2);
  });
});
