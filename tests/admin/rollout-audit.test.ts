/**
 * Staff accountability over real HTTP and PostgreSQL (issue 12): every rollout change
 * takes a reason kept on its audit entry; the audit log names its targets (batched) and
 * reads its details as fields; the dashboard counts failed, uncharged AI attempts apart
 * from answered ones, by the same charging rules as the quota; a user's page shows why a
 * reply failed. AI replies come from the loopback OpenAI fake.
 */
import { aiFixture, quotaOf, settled } from '../ai/ai-support';
import { createStaff, staffGql, staffOk, TestStaff } from '../support/admin';
import { errorOf } from '../support/harness';

const ai = aiFixture();
const api = () => ai.api;
let admin: TestStaff;

beforeAll(async () => {
  admin = await createStaff(api(), { role: 'admin' });
});

const CREATE = `mutation($f: String!, $r: String!, $p: String!, $reason: String!) { createRolloutRule(feature: $f, region: $r, plan: $p, enabled: true, percentage: 40, reason: $reason) { id } }`;
const UPDATE = `mutation($id: ID!, $reason: String!) { updateRolloutRule(id: $id, percentage: 70, reason: $reason) { id percentage } }`;
const DELETE = `mutation($id: ID!, $reason: String!) { deleteRolloutRule(id: $id, reason: $reason) { id } }`;
const SWITCH = `mutation($f: String!, $r: String!, $e: Boolean!, $reason: String!) { setRegionRollout(feature: $f, region: $r, enabled: $e, reason: $reason) { id feature region plan enabled percentage } }`;
const ENTRIES = `query($f: AuditEntryFilter) { allAuditEntries(filter: $f, perPage: 100) { action targetType targetId targetLabel targetExists reason detailFields { name value } } }`;

const auditCount = async () => (await api().query<{ n: number }>(`SELECT count(*)::int AS n FROM staff_audit`))[0].n;
const rulesIn = (region: string) => api().query(`SELECT feature, plan, enabled, percentage FROM rollout_rules WHERE region = $1 ORDER BY feature, plan`, [region]);
const entriesFor = async (targetId: string) => (await staffOk(api(), admin.token, ENTRIES, { f: { targetId } })).allAuditEntries;

describe('rollout changes take a reason', () => {
  it('refuses a missing, blank or over-long reason with BAD_USER_INPUT for every rollout mutation, and changes nothing', async () => {
    const { createRolloutRule: rule } = await staffOk(api(), admin.token, CREATE, { f: 'group_chats', r: 'PT', p: 'go', reason: 'Portugal Go pilot' });
    const before = { audit: await auditCount(), pt: await rulesIn('PT'), es: await rulesIn('ES') };
    const attempts: Array<[string, Record<string, unknown>]> = [];
    for (const reason of ['', '   \n ', 'x'.repeat(1001)]) {
      attempts.push(
        [CREATE, { f: 'group_chats', r: 'ES', p: '*', reason }],
        [UPDATE, { id: rule.id, reason }],
        [DELETE, { id: rule.id, reason }],
        [SWITCH, { f: 'group_chats', r: 'ES', e: false, reason }],
      );
    }
    for (const [query, vars] of attempts) {
      const e = errorOf(await staffGql(api(), admin.token, query, vars));
      expect({ code: e.code, message: e.message }).toEqual({ code: 'BAD_USER_INPUT', message: 'reason must be 1 to 1000 characters' });
    }
    // Leaving the argument out is refused by the schema, as a client mistake.
    const missing = await staffGql(api(), admin.token, `mutation($id: ID!) { deleteRolloutRule(id: $id) { id } }`, { id: rule.id });
    expect(errorOf(missing).code).toBe('BAD_USER_INPUT');
    expect({ audit: await auditCount(), pt: await rulesIn('PT'), es: await rulesIn('ES') }).toEqual(before);
  });

  it('keeps the trimmed reason on the audit entry of a create, an update and a delete, with what changed as fields', async () => {
    const { createRolloutRule: rule } = await staffOk(api(), admin.token, CREATE, { f: 'group_chats_ai', r: 'IE', p: 'plus', reason: '  Irish Plus pilot\n' });
    await staffOk(api(), admin.token, UPDATE, { id: rule.id, reason: 'Pilot going well' });
    await staffOk(api(), admin.token, DELETE, { id: rule.id, reason: 'Pilot over' });
    const entries = await entriesFor(rule.id);
    expect(entries.map((e: any) => [e.action, e.reason])).toEqual([
      ['ROLLOUT_RULE_DELETED', 'Pilot over'],
      ['ROLLOUT_RULE_UPDATED', 'Pilot going well'],
      ['ROLLOUT_RULE_CREATED', 'Irish Plus pilot'],
    ]);
    const [, updated, created] = entries;
    expect(updated.detailFields).toEqual([{ name: 'percentage', value: '40% → 70%' }]);
    expect(created.detailFields).toEqual([
      { name: 'feature', value: 'group_chats_ai' },
      { name: 'region', value: 'IE' },
      { name: 'plan', value: 'plus' },
      { name: 'enabled', value: 'on' },
      { name: 'percentage', value: '40%' },
    ]);
    const [row] = await api().query(`SELECT reason FROM staff_audit WHERE target_id = $1 AND action = 'ROLLOUT_RULE_UPDATED'`, [rule.id]);
    expect(row.reason).toBe('Pilot going well');
  });

  it("switching a whole region creates its region rule, then changes the same rule, each time with the reason on the entry", async () => {
    const off = await staffOk(api(), admin.token, SWITCH, { f: 'group_chats', r: 'at', e: false, reason: 'Regulator asked us to pause' });
    expect(off.setRegionRollout).toMatchObject({ feature: 'group_chats', region: 'AT', plan: '*', enabled: false, percentage: 100 });
    const austrian = await api().user({ region: 'AT' });
    const refused = await api().gql(austrian.token, `mutation { createGroup(input: { title: "x", memberUsernames: [] }) { id } }`);
    expect(errorOf(refused).code).toBe('FEATURE_NOT_AVAILABLE');

    const on = await staffOk(api(), admin.token, SWITCH, { f: 'group_chats', r: 'AT', e: true, reason: 'Cleared to resume' });
    expect(on.setRegionRollout.id).toBe(off.setRegionRollout.id);
    expect(await rulesIn('AT')).toEqual([{ feature: 'group_chats', plan: '*', enabled: true, percentage: 100 }]);
    const entries = await entriesFor(off.setRegionRollout.id);
    expect(entries).toEqual([
      expect.objectContaining({ action: 'ROLLOUT_RULE_UPDATED', reason: 'Cleared to resume', targetLabel: 'group_chats/AT/*', detailFields: [{ name: 'enabled', value: 'off → on' }, { name: 'whole region', value: 'yes' }] }),
      expect.objectContaining({ action: 'ROLLOUT_RULE_CREATED', reason: 'Regulator asked us to pause', targetLabel: 'group_chats/AT/*' }),
    ]);
  });

  it('refuses a region switch for an unknown feature or a region that is not a code with BAD_USER_INPUT, and stores nothing', async () => {
    const before = { audit: await auditCount(), rules: await api().query(`SELECT count(*)::int AS n FROM rollout_rules`) };
    for (const vars of [
      { f: 'everything', r: 'NL', e: false, reason: 'no such feature' },
      { f: 'group_chats', r: 'Netherlands', e: false, reason: 'not a code' },
      { f: 'group_chats', r: "NL'; DROP TABLE rollout_rules; --", e: false, reason: 'injection' },
      { f: 'group_chats', r: 'N'.repeat(10_000), e: false, reason: 'oversized' },
    ]) {
      expect(errorOf(await staffGql(api(), admin.token, SWITCH, vars)).code).toBe('BAD_USER_INPUT');
    }
    expect({ audit: await auditCount(), rules: await api().query(`SELECT count(*)::int AS n FROM rollout_rules`) }).toEqual(before);
  });

  it('parallel switches of one new region make one rule and one audit entry each', async () => {
    const results = await Promise.all(
      [true, false, true, false].map((e, i) => staffGql(api(), admin.token, SWITCH, { f: 'group_chats_ai', r: 'BE', e, reason: `switch ${i}` })),
    );
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(await rulesIn('BE')).toHaveLength(1);
    const entries = await entriesFor(results[0].data.setRegionRollout.id);
    expect(entries.map((e: any) => e.action).sort()).toEqual(['ROLLOUT_RULE_CREATED', 'ROLLOUT_RULE_UPDATED', 'ROLLOUT_RULE_UPDATED', 'ROLLOUT_RULE_UPDATED']);
  });
});

describe('the audit log names its targets', () => {
  it("names a user by @username, a rule by feature/region/plan, a case by its excerpt and group, a staff member by email, and a deleted target by what the entry remembers", async () => {
    const [alice, bob] = await api().users(2);
    const loner = await api().user();
    const groupId = await api().group(alice, [bob], 'Ski trip');
    const message = await api().send(bob, groupId, 'you are all clowns');
    await api().ok(alice.token, `mutation($m: ID!) { reportMessage(messageId: $m, reason: "rude") { id } }`, { m: message.id });
    const [{ id: caseId }] = await api().query(`SELECT id FROM safety_cases WHERE message_id = $1`, [message.id]);
    await staffOk(api(), admin.token, `mutation($id: ID!) { decideSafetyCase(id: $id, decision: DISMISS, reason: "banter") { id } }`, { id: caseId });
    await staffOk(api(), admin.token, `mutation($id: ID!) { resetQuota(userId: $id, reason: "goodwill") { id } }`, { id: alice.id });
    await staffOk(api(), admin.token, `mutation($id: ID!) { resetQuota(userId: $id, reason: "goodwill") { id } }`, { id: loner.id });
    const { createRolloutRule: kept } = await staffOk(api(), admin.token, CREATE, { f: 'group_chats', r: 'NO', p: 'free', reason: 'Norway free' });
    const { createRolloutRule: gone } = await staffOk(api(), admin.token, CREATE, { f: 'group_chats_ai', r: 'DK', p: 'pro', reason: 'Denmark pro' });
    await staffOk(api(), admin.token, DELETE, { id: gone.id, reason: 'Denmark later' });
    const moderator = await createStaff(api(), { role: 'moderator' });
    // A user removed since (the audit keeps only the id).
    await api().query(`DELETE FROM users WHERE id = $1`, [loner.id]);

    const label = async (targetId: string) => {
      const entries = await entriesFor(targetId);
      return entries.map((e: any) => ({ label: e.targetLabel, exists: e.targetExists }));
    };
    expect(await label(alice.id)).toEqual([{ label: `@${alice.username}`, exists: true }]);
    expect(await label(kept.id)).toEqual([{ label: 'group_chats/NO/free', exists: true }]);
    expect(await label(gone.id)).toEqual([
      { label: 'group_chats_ai/DK/pro (deleted)', exists: false },
      { label: 'group_chats_ai/DK/pro (deleted)', exists: false },
    ]);
    expect(await label(caseId)).toEqual([{ label: 'report "you are all clowns" in Ski trip', exists: true }]);
    expect(await label(moderator.id)).toEqual([{ label: moderator.email, exists: true }]);
    expect(await label(loner.id)).toEqual([{ label: `User ${loner.id.slice(0, 8)}… (no longer exists)`, exists: false }]);

    const [reset] = await entriesFor(alice.id);
    expect(reset.detailFields).toHaveLength(3);
    expect(reset.detailFields).toEqual(expect.arrayContaining([{ name: 'plan', value: 'plus' }, { name: 'used before', value: '0' }, { name: 'limit', value: '80' }]));
  });

  it('resolves a page of targets with one query per target type, not one per entry', async () => {
    const users = await api().users(6);
    for (const u of users) await staffOk(api(), admin.token, `mutation($id: ID!) { resetQuota(userId: $id, reason: "batch") { id } }`, { id: u.id });
    for (let i = 0; i < 4; i++) await staffOk(api(), admin.token, CREATE, { f: 'group_chats', r: ['FI', 'SE', 'IS', 'EE'][i], p: 'go', reason: 'nordics' });

    const db = api().app.services.db;
    const spy = jest.spyOn(db, 'query');
    try {
      const { allAuditEntries } = await staffOk(api(), admin.token, `{ allAuditEntries(perPage: 50) { targetType targetLabel targetExists } }`);
      const labelled = allAuditEntries.filter((e: any) => e.targetType === 'User' || e.targetType === 'RolloutRule');
      expect(labelled.length).toBeGreaterThanOrEqual(10);
      const sql = spy.mock.calls.map(([text]) => String(text));
      expect(sql.filter((s) => /FROM users WHERE id = ANY/.test(s))).toHaveLength(1);
      expect(sql.filter((s) => /FROM rollout_rules WHERE id = ANY/.test(s))).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the dashboard and the user page', () => {
  const DASHBOARD = `{ dashboard {
    aiAttempts { total answered failedUncharged blockedCharged blockedUncharged inProgress charged }
    failuresByReason { reason count }
    responsesByPlanModel { plan model count answered failed blocked inProgress } } }`;

  it('count failed, uncharged attempts apart from answered and blocked ones, in step with the quota, and show why a reply failed', async () => {
    await settled(api());
    const before = (await staffOk(api(), admin.token, DASHBOARD)).dashboard;
    const [payer, friend] = await api().users(2, { plan: 'plus' });
    const groupId = await api().group(payer, [friend], 'Dinner');
    const ask = async (body: string) => {
      await api().send(payer, groupId, body);
      await settled(api());
    };
    ai.fake.enqueue({ text: 'Try the noodle bar.' });
    await ask('@AI where should we eat?');
    ai.fake.enqueue({ status: 500 });
    await ask('@AI and for dessert?');
    ai.fake.enqueue({ text: '' });
    await ask('@AI any late bars?');
    ai.fake.enqueue({ status: 500 });
    await ask('@AI what about brunch?');
    // A teen group: this output breaks the stricter rules and is withheld, charged (docs/product.md §4).
    const teen = await api().user({ age: 'minor', plan: 'plus' });
    const teenGroup = await api().group(payer, [teen], 'Study group');
    ai.fake.enqueue({ chunks: ['Sure! ', 'Here is a site ', 'with free porn ', 'videos for you.'] });
    await api().send(payer, teenGroup, '@AI any good sites?');
    await settled(api());

    const { dashboard } = await staffOk(api(), admin.token, DASHBOARD);
    const delta = <T extends Record<string, number>>(a: T, b: T) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - (b?.[k] ?? 0)]));
    expect(delta(dashboard.aiAttempts, before.aiAttempts)).toEqual({ total: 5, answered: 1, failedUncharged: 3, blockedCharged: 1, blockedUncharged: 0, inProgress: 0, charged: 2 });
    const reasons = (d: any) => Object.fromEntries(d.failuresByReason.map((r: any) => [r.reason, r.count]));
    expect(delta(reasons(dashboard), reasons(before))).toEqual({ PROVIDER_ERROR: 2, EMPTY_RESPONSE: 1 });
    expect(dashboard.failuresByReason[0]).toEqual({ reason: 'PROVIDER_ERROR', count: 2 });
    const plusFast = (d: any) => { const { plan, model, ...n } = d.responsesByPlanModel.find((r: any) => r.plan === 'plus' && r.model === 'test-fast') ?? {}; return n; };
    expect(delta(plusFast(dashboard), plusFast(before))).toEqual({ count: 5, answered: 1, failed: 3, blocked: 1, inProgress: 0 });
    // What the dashboard counts as charged is what the payer's quota counts as used.
    expect((await quotaOf(api(), payer)).used).toBe(2);

    const { User } = await staffOk(api(), admin.token, `query($id: ID!) { User(id: $id) { recentResponses { status statusReason charged } } }`, { id: payer.id });
    expect(User.recentResponses).toEqual([
      { status: 'BLOCKED', statusReason: 'CONTENT_BLOCKED', charged: true },
      { status: 'FAILED', statusReason: 'PROVIDER_ERROR', charged: false },
      { status: 'FAILED', statusReason: 'EMPTY_RESPONSE', charged: false },
      { status: 'FAILED', statusReason: 'PROVIDER_ERROR', charged: false },
      { status: 'COMPLETED', statusReason: null, charged: true },
    ]);
  });
});
