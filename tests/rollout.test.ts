/**
 * Rollout flags (docs/product.md §7) through the API: who may create and join groups, whose
 * mentions the AI answers, how fast a rule change reaches another API process, and the
 * audit trail of every change.
 */
import { randomUUID } from 'node:crypto';
import { PLANS } from '../api/src/domain/plan';
import type { RuleInput } from '../api/src/domain/rollout/effective-rollout';
import type { RolloutService } from '../api/src/rollout/rollout.service';
import { FakeOpenAI } from './support/fake-openai';
import { errorOf, startApi, startTwoApis, TestApi, TestUser } from './support/harness';

const CREATE_GROUP = `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`;
const CREATE_INVITE = `mutation($g: ID!) { createInvite(groupId: $g) { id token } }`;
const JOIN = `mutation($t: String!) { joinGroup(token: $t) { id memberCount } }`;
const ADD_MEMBERS = `mutation($g: ID!, $u: [String!]!) { addMembers(groupId: $g, usernames: $u) { id memberCount } }`;
const GROUP = `query($g: ID!) { group(id: $g) { id memberCount members { user { id } } } }`;
const MESSAGES = `query($g: ID!) { messages(groupId: $g, first: 100) { edges { node { id kind body status author { id } } } } }`;

const PILOT = ['JP', 'NZ', 'KR', 'TW'];

const rule = (feature: RuleInput['feature'], region: string, enabled: boolean, percentage = enabled ? 100 : 0, plan = '*'): RuleInput => ({
  feature,
  region,
  plan,
  enabled,
  percentage,
});

/** Replaces every rule of `feature` with `rules`, through the service as staff would. */
async function setRules(rollout: RolloutService, feature: string, rules: RuleInput[]): Promise<void> {
  for (const r of await rollout.listRules()) if (r.feature === feature) await rollout.deleteRule(r.id, 'test');
  for (const r of rules) await rollout.upsertRule(r, 'test');
}

/** The first error code of a result, or 'OK'. */
const codeOf = (r: { errors?: Array<{ extensions?: { code?: string } }> }): string => r.errors?.[0]?.extensions?.code ?? 'OK';

const createGroup = (api: TestApi, user: TestUser, memberUsernames: string[] = []) =>
  api.gql(user.token, CREATE_GROUP, { i: { title: 'Rollout test', memberUsernames } });

/** Rows that creating or joining a group would add. */
async function footprint(api: TestApi): Promise<Record<string, number>> {
  const [row] = await api.query(
    `SELECT (SELECT count(*) FROM groups)::int AS groups, (SELECT count(*) FROM group_members)::int AS members,
            (SELECT count(*) FROM group_events)::int AS events, (SELECT coalesce(sum(uses), 0) FROM invites)::int AS uses`,
  );
  return row;
}

describe('group_chats: creating and joining groups', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterEach(() => setRules(api.app.services.rollout, 'group_chats', [rule('group_chats', '*', true)]));
  afterAll(() => api.stop());

  it('refuses a user in a disabled region with FEATURE_NOT_AVAILABLE on create and join, writing nothing', async () => {
    const jp = await api.user({ region: 'JP' });
    const de = await api.user({ region: 'DE' });
    const groupId = await api.group(jp);
    const invite = (await api.ok(jp.token, CREATE_INVITE, { g: groupId })).createInvite;
    await api.app.services.rollout.upsertRule(rule('group_chats', 'DE', false), 'test');
    const before = await footprint(api);

    const created = await createGroup(api, de);
    expect(errorOf(created)).toMatchObject({ code: 'FEATURE_NOT_AVAILABLE', extensions: { code: 'FEATURE_NOT_AVAILABLE', feature: 'group_chats' } });
    const joined = await api.gql(de.token, JOIN, { t: invite.token });
    expect(codeOf(joined)).toBe('FEATURE_NOT_AVAILABLE');

    expect(await footprint(api)).toEqual(before);
    expect((await api.ok(jp.token, GROUP, { g: groupId })).group.memberCount).toBe(1);
    // The rule is specific to DE: a JP user still creates groups.
    expect(codeOf(await createGroup(api, jp))).toBe('OK');
  });

  it('keeps existing memberships working for a user whose region was switched off', async () => {
    const [jp, de] = [await api.user({ region: 'JP' }), await api.user({ region: 'DE' })];
    const groupId = await api.group(de, [jp]);
    await api.app.services.rollout.upsertRule(rule('group_chats', 'DE', false), 'test');
    expect(codeOf(await createGroup(api, de))).toBe('FEATURE_NOT_AVAILABLE');

    const sent = await api.send(de, groupId, 'still here');
    const group = (await api.ok(de.token, GROUP, { g: groupId })).group;
    expect(group.members.map((m: any) => m.user.id).sort()).toEqual([jp.id, de.id].sort());
    const bodies = (await api.ok(de.token, MESSAGES, { g: groupId })).messages.edges.map((e: any) => e.node.body);
    expect(bodies).toContain('still here');
    // The other member sees it too, and the DE member still receives what others send.
    const live = api.subscribe(de.token, groupId, sent.seq);
    await api.send(jp, groupId, 'welcome back');
    await live.until((events) => events.some((e) => e.message?.body === 'welcome back'));
  });

  it('does not let a member add someone outside the rollout, and adds nobody', async () => {
    const jp = await api.user({ region: 'JP' });
    const de = await api.user({ region: 'DE' });
    const groupId = await api.group(jp);
    await api.app.services.rollout.upsertRule(rule('group_chats', 'DE', false), 'test');
    const before = await footprint(api);
    expect(codeOf(await api.gql(jp.token, ADD_MEMBERS, { g: groupId, u: [de.username] }))).toBe('FORBIDDEN');
    expect(codeOf(await createGroup(api, jp, [de.username]))).toBe('FORBIDDEN');
    expect(await footprint(api)).toEqual(before);
  });

  it('applies a change at once in the process that made it', async () => {
    const fr = await api.user({ region: 'FR', plan: 'go' });
    expect(codeOf(await createGroup(api, fr))).toBe('OK');
    await api.app.services.rollout.upsertRule(rule('group_chats', 'FR', false, 0, 'go'), 'test');
    expect(codeOf(await createGroup(api, fr))).toBe('FEATURE_NOT_AVAILABLE');
    // Same region, another plan: the region+plan rule does not reach it.
    const frPlus = await api.user({ region: 'FR', plan: 'plus' });
    expect(codeOf(await createGroup(api, frPlus))).toBe('OK');
  });

  it('fails closed when a feature has no rule at all', async () => {
    const user = await api.user({ region: 'BR' });
    await setRules(api.app.services.rollout, 'group_chats', []);
    expect(codeOf(await createGroup(api, user))).toBe('FEATURE_NOT_AVAILABLE');
  });

  it('runs the reference rollout: pilot in JP, NZ, KR and TW on every plan, then worldwide', async () => {
    const rollout = api.app.services.rollout;
    await setRules(rollout, 'group_chats', [rule('group_chats', '*', false), ...PILOT.map((r) => rule('group_chats', r, true))]);

    const pilots = await Promise.all(PILOT.flatMap((region) => PLANS.map((plan) => api.user({ region, plan }))));
    for (const p of pilots) expect(codeOf(await createGroup(api, p))).toBe('OK');
    const jp = pilots[0];
    const jpGroup = await api.group(jp);
    const invite = (await api.ok(jp.token, CREATE_INVITE, { g: jpGroup })).createInvite;
    const de = await api.user({ region: 'DE', plan: 'pro' });
    const us = await api.user({ region: 'US', plan: 'free' });
    const nowhere = await api.user({ region: undefined });
    for (const outside of [de, us, nowhere]) {
      expect(codeOf(await createGroup(api, outside))).toBe('FEATURE_NOT_AVAILABLE');
      expect(codeOf(await api.gql(outside.token, JOIN, { t: invite.token }))).toBe('FEATURE_NOT_AVAILABLE');
    }
    const kr = pilots[PLANS.length * 2];
    expect((await api.ok(kr.token, JOIN, { t: invite.token })).joinGroup.memberCount).toBe(2);

    // Six days later: worldwide, every plan.
    await rollout.upsertRule(rule('group_chats', '*', true), 'test');
    expect(codeOf(await createGroup(api, de))).toBe('OK');
    expect(codeOf(await createGroup(api, nowhere))).toBe('OK');
    expect((await api.ok(us.token, JOIN, { t: invite.token })).joinGroup.memberCount).toBe(3);
    for (const p of pilots.slice(0, 4)) expect(codeOf(await createGroup(api, p))).toBe('OK');
  });
});

describe('a rule change applies on the next request of a second API process', () => {
  let a: TestApi;
  let b: TestApi;
  beforeAll(async () => {
    [a, b] = await startTwoApis();
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  async function flip(enabled: boolean): Promise<void> {
    await a.app.services.rollout.upsertRule(rule('group_chats', 'NZ', enabled), 'staff@example.test');
  }

  it('refuses on process B on its very next request after process A disables a region, and admits again right after re-enabling', async () => {
    const nz = await a.user({ region: 'NZ' });
    for (let round = 0; round < 3; round++) {
      // B has the current rules cached: it just admitted this user.
      expect(codeOf(await createGroup(b, nz))).toBe('OK');
      await flip(false);
      expect(codeOf(await createGroup(a, nz))).toBe('FEATURE_NOT_AVAILABLE');
      expect(codeOf(await createGroup(b, nz))).toBe('FEATURE_NOT_AVAILABLE');
      await flip(true);
      expect(codeOf(await createGroup(b, nz))).toBe('OK');
    }
  });
});

describe('group_chats_ai: the AI answers only authors inside the rollout', () => {
  let fake: FakeOpenAI;
  let api: TestApi;
  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    api = await startApi({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'test', AI_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    await api?.stop();
    await fake?.stop();
  });

  it('stays silent for a mention by a user of a disabled region and charges nothing, but answers a user of another region', async () => {
    const fr = await api.user({ region: 'FR' });
    const jp = await api.user({ region: 'JP' });
    const groupId = await api.group(jp, [fr]);
    await api.app.services.rollout.upsertRule(rule('group_chats_ai', 'FR', false), 'test');

    const fromFr = await api.send(fr, groupId, '@AI what should we cook tonight?');
    await api.app.services.background.idle();
    expect(fake.chatRequests()).toHaveLength(0);
    const afterFr = (await api.ok(jp.token, MESSAGES, { g: groupId })).messages.edges.map((e: any) => e.node);
    expect(afterFr.filter((m: any) => m.kind === 'AI')).toEqual([]);
    expect(await api.query(`SELECT 1 FROM model_responses WHERE trigger_message_id = $1`, [fromFr.id])).toEqual([]);
    // The message itself was delivered: only the AI is gated.
    expect(afterFr.map((m: any) => m.id)).toContain(fromFr.id);

    const fromJp = await api.send(jp, groupId, '@AI what should we cook tonight?');
    await api.app.services.background.idle();
    expect(fake.chatRequests()).toHaveLength(1);
    const ai = (await api.ok(jp.token, MESSAGES, { g: groupId })).messages.edges.map((e: any) => e.node).filter((m: any) => m.kind === 'AI');
    expect(ai).toHaveLength(1);
    expect(ai[0].status).toBe('COMPLETED');
    const charged = await api.query(`SELECT charged_user_id AS "userId" FROM model_responses WHERE trigger_message_id = $1`, [fromJp.id]);
    expect(charged).toEqual([{ userId: jp.id }]);
  });
});

describe('rule changes are validated and audited', () => {
  let api: TestApi;
  let rollout: RolloutService;
  beforeAll(async () => {
    api = await startApi();
    rollout = api.app.services.rollout;
  });
  afterAll(() => api.stop());

  const auditOf = (ruleId: string) =>
    api.query(`SELECT action, feature, region, plan, before, after, actor FROM rollout_audit WHERE rule_id = $1 ORDER BY created_at, id`, [ruleId]);

  it('seeds worldwide rules for both features, with their audit entries', async () => {
    const seeded = (await rollout.listRules()).filter((r) => r.updatedBy === 'migration');
    expect(seeded.map((r) => [r.feature, r.region, r.plan, r.enabled, r.percentage])).toEqual([
      ['group_chats', '*', '*', true, 100],
      ['group_chats_ai', '*', '*', true, 100],
    ]);
    for (const r of seeded) expect(await auditOf(r.id)).toMatchObject([{ action: 'CREATE', before: null, actor: 'migration' }]);
  });

  it('records create, update and delete with before, after and the actor', async () => {
    const created = await rollout.upsertRule({ feature: 'group_chats_ai', region: 'kr', plan: 'Go', enabled: true, percentage: 25 }, 'alice@staff.test');
    expect(created).toMatchObject({ feature: 'group_chats_ai', region: 'KR', plan: 'go', enabled: true, percentage: 25, updatedBy: 'alice@staff.test' });

    // Same feature, region and plan: an update of that rule, not a second one.
    const updated = await rollout.upsertRule(rule('group_chats_ai', 'KR', true, 60, 'go'), 'bob@staff.test');
    expect(updated).toMatchObject({ id: created.id, percentage: 60, updatedBy: 'bob@staff.test' });
    // By id, even moving it to another region.
    const moved = await rollout.upsertRule({ id: created.id, ...rule('group_chats_ai', 'TW', false, 0, 'go') }, 'carol@staff.test');
    expect(moved).toMatchObject({ id: created.id, region: 'TW', enabled: false });
    const deleted = await rollout.deleteRule(created.id, 'dave@staff.test');
    expect(deleted).toMatchObject({ id: created.id, region: 'TW' });
    expect((await rollout.listRules()).map((r) => r.id)).not.toContain(created.id);

    const audit = await auditOf(created.id);
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['CREATE', 'alice@staff.test'],
      ['UPDATE', 'bob@staff.test'],
      ['UPDATE', 'carol@staff.test'],
      ['DELETE', 'dave@staff.test'],
    ]);
    expect(audit[0]).toMatchObject({ before: null, after: { id: created.id, region: 'KR', percentage: 25, enabled: true } });
    expect(audit[1]).toMatchObject({ before: { percentage: 25, updatedBy: 'alice@staff.test' }, after: { percentage: 60, updatedBy: 'bob@staff.test' } });
    expect(audit[2]).toMatchObject({ region: 'TW', before: { region: 'KR', enabled: true }, after: { region: 'TW', enabled: false } });
    expect(audit[3]).toMatchObject({ before: { region: 'TW' }, after: null });
  });

  it('rejects malformed rules, a duplicate by id and unknown ids, leaving no audit entry', async () => {
    const count = async () => (await api.query(`SELECT count(*)::int AS n FROM rollout_audit`))[0].n;
    const before = await count();
    const bad = (input: RuleInput) => rollout.upsertRule(input, 'test');
    await expect(bad(rule('video_calls', '*', true))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(bad(rule('group_chats', 'JPN', true))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(bad(rule('group_chats', '*', true, 100, 'gold'))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(bad(rule('group_chats', '*', true, 101))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(rollout.upsertRule(rule('group_chats', 'JP', true), '')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });

    const jp = await rollout.upsertRule(rule('group_chats', 'JP', true), 'test');
    const kr = await rollout.upsertRule(rule('group_chats', 'KR', true), 'test');
    const after = await count();
    await expect(rollout.upsertRule({ id: kr.id, ...rule('group_chats', 'JP', false) }, 'test')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(rollout.upsertRule({ id: randomUUID(), ...rule('group_chats', 'US', true) }, 'test')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(rollout.deleteRule(randomUUID(), 'test')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(rollout.deleteRule('not-a-uuid', 'test')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await count()).toBe(after);
    expect(after - before).toBe(2);
    expect((await rollout.listRules()).find((r) => r.id === jp.id)).toMatchObject({ enabled: true });
  });

  it('keeps one audit entry per change when staff change the same rule concurrently', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => rollout.upsertRule(rule('group_chats', 'NZ', true, 10 + i), `staff${i}@staff.test`)),
    );
    const id = results[0].id;
    expect(new Set(results.map((r) => r.id))).toEqual(new Set([id]));
    const audit = await auditOf(id);
    expect(audit.map((a) => a.action)).toEqual(['CREATE', ...Array(7).fill('UPDATE')]);
    // Each change saw the one before it: the trail is a chain.
    for (let i = 1; i < audit.length; i++) expect(audit[i].before).toEqual(audit[i - 1].after);
  });
});
