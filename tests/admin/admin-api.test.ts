/**
 * The staff API over real HTTP and PostgreSQL: user reports become cases, decisions take
 * effect for members (live tombstones, suspension), roles, and one audit entry per action.
 */
import { createStaff, REPORT_MESSAGE, staffGql, staffOk, TestStaff } from '../support/admin';
import { errorCodes, errorOf, liveSubscription, startApi, TestApi, TestUser } from '../support/harness';

let api: TestApi;
let admin: TestStaff;
let moderator: TestStaff;

beforeAll(async () => {
  api = await startApi();
  admin = await createStaff(api, { role: 'admin' });
  moderator = await createStaff(api, { role: 'moderator' });
});
afterAll(async () => {
  await api?.stop();
});

const CASE = `query($id: ID!) { SafetyCase(id: $id) {
  id source status category categories teen excerpt groupId groupTitle messageId authorId reportCount reportReasons
  decidedAt decidedBy decisionReason author { id username suspended }
  message { id body flagged deleted } context { seq body flagged deleted authorName kind } } }`;
const DECIDE = `mutation($id: ID!, $d: CaseDecision!, $r: String!) { decideSafetyCase(id: $id, decision: $d, reason: $r) { id status decidedBy decisionReason } }`;

async function reportedMessage(body = 'you are all idiots') {
  const [author, bob, carol] = await api.users(3);
  const groupId = await api.group(author, [bob, carol], 'Trip planning');
  const message = await api.send(author, groupId, body);
  await api.ok(bob.token, REPORT_MESSAGE, { m: message.id, r: 'insulting' });
  const [c] = await api.query(`SELECT id FROM safety_cases WHERE message_id = $1 AND status = 'OPEN'`, [message.id]);
  return { author, bob, carol, groupId, message, caseId: c.id as string };
}

describe('user reports', () => {
  it('open a USER_REPORT case; a second reporter joins it and a repeated report does not count twice', async () => {
    const { bob, carol, message, caseId, author } = await reportedMessage();
    await api.ok(carol.token, REPORT_MESSAGE, { m: message.id, r: 'spam' });
    await api.ok(bob.token, REPORT_MESSAGE, { m: message.id, r: 'insulting, really' });
    const c = (await staffOk(api, moderator.token, CASE, { id: caseId })).SafetyCase;
    expect(c).toMatchObject({ source: 'USER_REPORT', status: 'OPEN', messageId: message.id, authorId: author.id, reportCount: 2, excerpt: 'you are all idiots', groupTitle: 'Trip planning' });
    // The repeat changes nothing: bob's first reason stands.
    expect([...c.reportReasons].sort()).toEqual(['insulting', 'spam']);
    expect(await api.query(`SELECT 1 FROM safety_cases WHERE message_id = $1`, [message.id])).toHaveLength(1);
  });

  it('parallel reports of one message join one case with an exact count', async () => {
    const [author, ...others] = await api.users(7);
    const groupId = await api.group(author, others);
    const m = await api.send(author, groupId, 'buy cheap pills now');
    const results = await Promise.all(others.map((u) => api.gql(u.token, REPORT_MESSAGE, { m: m.id, r: 'spam' })));
    expect(results.flatMap(errorCodes)).toEqual([]);
    const cases = await api.query(`SELECT (SELECT count(*)::int FROM safety_case_sources s WHERE s.case_id = c.id) AS sources FROM safety_cases c WHERE message_id = $1`, [m.id]);
    expect(cases).toEqual([{ sources: 6 }]);
  });

  it('a report after the case was decided opens a new case', async () => {
    const { carol, message, caseId } = await reportedMessage();
    await staffOk(api, moderator.token, DECIDE, { id: caseId, d: 'DISMISS', r: 'banter between friends' });
    await api.ok(carol.token, REPORT_MESSAGE, { m: message.id, r: 'still rude' });
    const rows = await api.query(
      `SELECT status, (SELECT count(*)::int FROM safety_case_sources s WHERE s.case_id = c.id) AS sources FROM safety_cases c WHERE message_id = $1 ORDER BY created_at`,
      [message.id],
    );
    expect(rows).toEqual([{ status: 'DISMISSED', sources: 1 }, { status: 'OPEN', sources: 1 }]);
  });
});

describe('a case', () => {
  it('shows the flagged message with up to three messages either side', async () => {
    const [a, b] = await api.users(2);
    const groupId = await api.group(a, [b]);
    const sent = [];
    for (let i = 1; i <= 9; i++) sent.push(await api.send(i % 2 ? a : b, groupId, `message ${i}`));
    await api.ok(b.token, REPORT_MESSAGE, { m: sent[4].id, r: 'rude' });
    const [row] = await api.query(`SELECT id FROM safety_cases WHERE message_id = $1`, [sent[4].id]);
    const c = (await staffOk(api, moderator.token, CASE, { id: row.id })).SafetyCase;
    expect(c.context.map((m: { body: string }) => m.body)).toEqual(['message 2', 'message 3', 'message 4', 'message 5', 'message 6', 'message 7', 'message 8']);
    expect(c.context.filter((m: { flagged: boolean }) => m.flagged).map((m: { body: string }) => m.body)).toEqual(['message 5']);
    expect(c.message).toMatchObject({ id: sent[4].id, body: 'message 5', flagged: true, deleted: false });
    expect(c.author).toMatchObject({ id: a.id, username: a.username, suspended: false });
  });

  it('REMOVE_MESSAGE tombstones the message live for members', async () => {
    const { carol, groupId, message, caseId } = await reportedMessage();
    const live = await liveSubscription(api, carol, groupId);
    const decided = await staffOk(api, moderator.token, DECIDE, { id: caseId, d: 'REMOVE_MESSAGE', r: 'insults' });
    expect(decided.decideSafetyCase).toEqual({ id: caseId, status: 'MESSAGE_REMOVED', decidedBy: moderator.email, decisionReason: 'insults' });
    const events = await live.events.until((e) => e.some((x) => x.type === 'MESSAGE_DELETED'));
    const tombstone = events.find((x) => x.type === 'MESSAGE_DELETED');
    expect(tombstone.message).toMatchObject({ id: message.id, status: 'DELETED', body: '' });
    const c = (await staffOk(api, moderator.token, CASE, { id: caseId })).SafetyCase;
    expect(c.message).toMatchObject({ deleted: true, body: null });
  });

  it('DISMISS shows a message that moderation hid for review to members again, live', async () => {
    const [author, bob] = await api.users(2);
    const groupId = await api.group(author, [bob]);
    const m = await api.send(author, groupId, 'I will find you after school');
    // As moderation leaves a high-severity message in a TEEN group: hidden, with an open case.
    await api.query(`UPDATE messages SET status = 'HIDDEN', status_reason = 'UNDER_REVIEW' WHERE id = $1`, [m.id]);
    const caseId = await api.app.services.safetyCases.open({ source: 'AUTO_FLAG', groupId, messageId: m.id, authorId: author.id, categories: ['violence'], severity: 'high', teen: true, excerpt: m.body });
    const live = await liveSubscription(api, bob, groupId);
    await staffOk(api, moderator.token, DECIDE, { id: caseId, d: 'DISMISS', r: 'a game they play' });
    const events = await live.events.until((e) => e.some((x) => x.type === 'MESSAGE_UPDATED' && x.seq > live.since));
    expect(events.find((x) => x.type === 'MESSAGE_UPDATED' && x.seq > live.since).message).toMatchObject({ id: m.id, status: 'SENT', body: 'I will find you after school' });
  });

  it('SUSPEND_AUTHOR suspends the author: their next message is refused with SUSPENDED', async () => {
    const { author, groupId, caseId } = await reportedMessage();
    await staffOk(api, moderator.token, DECIDE, { id: caseId, d: 'SUSPEND_AUTHOR', r: 'repeated abuse' });
    const r = await api.gql(author.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, { i: { groupId, body: 'hello?', clientMessageId: 'after-suspension' } });
    expect(errorCodes(r)).toEqual(['SUSPENDED']);
    const [u] = await api.query(`SELECT suspended_reason FROM users WHERE id = $1`, [author.id]);
    expect(u.suspended_reason).toBe('repeated abuse');
  });

  it('cannot be decided twice, and of parallel decisions exactly one wins', async () => {
    const { caseId } = await reportedMessage();
    const decisions = ['DISMISS', 'REMOVE_MESSAGE', 'SUSPEND_AUTHOR', 'DISMISS', 'REMOVE_MESSAGE', 'DISMISS'];
    const results = await Promise.all(decisions.map((d, i) => staffGql(api, i % 2 ? admin.token : moderator.token, DECIDE, { id: caseId, d, r: `decision ${i}` })));
    const won = results.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.errors).map((r) => errorOf(r).code)).toEqual(Array(5).fill('BAD_USER_INPUT'));
    expect(await api.query(`SELECT 1 FROM staff_audit WHERE target_id = $1`, [caseId])).toHaveLength(1);
    expect(errorOf(await staffGql(api, admin.token, DECIDE, { id: caseId, d: 'DISMISS', r: 'again' })).code).toBe('BAD_USER_INPUT');
  });

  it('needs a reason', async () => {
    const { caseId } = await reportedMessage();
    expect(errorOf(await staffGql(api, moderator.token, DECIDE, { id: caseId, d: 'DISMISS', r: '   ' })).code).toBe('BAD_USER_INPUT');
    expect(errorOf(await staffGql(api, moderator.token, DECIDE, { id: caseId, d: 'DISMISS', r: 'x'.repeat(1001) })).code).toBe('BAD_USER_INPUT');
  });
});

describe('roles', () => {
  const ruleVars = { f: 'group_chats_ai', r: 'FR', p: 'go', e: true, pc: 50 };
  const CREATE_RULE = `mutation($f: String!, $r: String!, $p: String!, $e: Boolean!, $pc: Int!) { createRolloutRule(feature: $f, region: $r, plan: $p, enabled: $e, percentage: $pc, reason: "x") { id } }`;

  it('a moderator cannot change rollout rules, quotas or suspensions (FORBIDDEN) and nothing changes', async () => {
    const user = await api.user();
    const [rule] = await api.query(`SELECT id FROM rollout_rules LIMIT 1`);
    const attempts = [
      [CREATE_RULE, ruleVars],
      [`mutation($id: ID!) { updateRolloutRule(id: $id, percentage: 10, reason: "x") { id } }`, { id: rule.id }],
      [`mutation($id: ID!) { deleteRolloutRule(id: $id, reason: "x") { id } }`, { id: rule.id }],
      [`mutation { setRegionRollout(feature: "group_chats", region: "FR", enabled: false, reason: "x") { id } }`, {}],
      [`mutation($id: ID!) { resetQuota(userId: $id, reason: "x") { id } }`, { id: user.id }],
      [`mutation($id: ID!) { suspendUser(id: $id, reason: "x") { id } }`, { id: user.id }],
      [`mutation($id: ID!) { unsuspendUser(id: $id, reason: "x") { id } }`, { id: user.id }],
    ] as const;
    const before = await api.query(`SELECT count(*)::int AS n FROM staff_audit`);
    for (const [query, vars] of attempts) {
      const r = await staffGql(api, moderator.token, query, vars);
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
    }
    expect(await api.query(`SELECT count(*)::int AS n FROM staff_audit`)).toEqual(before);
    expect(await api.query(`SELECT 1 FROM rollout_rules WHERE region = 'FR'`)).toEqual([]);
  });

  it('a moderator reads users, responses, rules, the grid, the audit log and the dashboard', async () => {
    const r = await staffOk(
      api,
      moderator.token,
      `{ allUsers { id } _allUsersMeta { count } allModelResponses { id } allRolloutRules { id } rolloutGrid { regions } allAuditEntries { id } dashboard { openCases } planLimits { plan } allSafetyCases { id } }`,
    );
    expect(r._allUsersMeta.count).toBeGreaterThan(0);
    expect(r.rolloutGrid.regions).toContain('*');
  });
});

describe('audit', () => {
  type Step = { action: string; as: () => TestStaff; run: (staff: TestStaff) => Promise<unknown> };
  let user: TestUser;
  let ruleId: string;
  const ok = (query: string, vars: Record<string, unknown> = {}) => (staff: TestStaff) => staffOk(api, staff.token, query, vars);

  beforeAll(async () => {
    user = await api.user();
  });

  const steps: Step[] = [
    { action: 'STAFF_CREATED', as: () => admin, run: () => createStaff(api, { role: 'moderator' }) },
    { action: 'SIGN_IN', as: () => admin, run: (s) => staffOk(api, null, `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }`, { e: s.email, p: s.password }) },
    { action: 'CASE_DISMISSED', as: () => moderator, run: async (s) => ok(DECIDE, { id: (await reportedMessage()).caseId, d: 'DISMISS', r: 'fine' })(s) },
    { action: 'MESSAGE_REMOVED', as: () => moderator, run: async (s) => ok(DECIDE, { id: (await reportedMessage()).caseId, d: 'REMOVE_MESSAGE', r: 'rude' })(s) },
    { action: 'AUTHOR_SUSPENDED', as: () => admin, run: async (s) => ok(DECIDE, { id: (await reportedMessage()).caseId, d: 'SUSPEND_AUTHOR', r: 'abuse' })(s) },
    { action: 'USER_SUSPENDED', as: () => admin, run: (s) => ok(`mutation($id: ID!) { suspendUser(id: $id, reason: "spam wave") { suspended } }`, { id: user.id })(s) },
    { action: 'USER_UNSUSPENDED', as: () => admin, run: (s) => ok(`mutation($id: ID!) { unsuspendUser(id: $id, reason: "appeal") { suspended } }`, { id: user.id })(s) },
    { action: 'QUOTA_RESET', as: () => admin, run: (s) => ok(`mutation($id: ID!) { resetQuota(userId: $id, reason: "support ticket") { id } }`, { id: user.id })(s) },
    {
      action: 'ROLLOUT_RULE_CREATED',
      as: () => admin,
      run: async (s) => {
        const r = await ok(`mutation { createRolloutRule(feature: "group_chats", region: "BR", plan: "free", enabled: true, percentage: 30, reason: "Brazil free-plan trial") { id } }`)(s);
        ruleId = (r as { createRolloutRule: { id: string } }).createRolloutRule.id;
      },
    },
    { action: 'ROLLOUT_RULE_UPDATED', as: () => admin, run: (s) => ok(`mutation($id: ID!) { updateRolloutRule(id: $id, percentage: 60, reason: "trial going well") { percentage } }`, { id: ruleId })(s) },
    { action: 'ROLLOUT_RULE_DELETED', as: () => admin, run: (s) => ok(`mutation($id: ID!) { deleteRolloutRule(id: $id, reason: "trial over") { id } }`, { id: ruleId })(s) },
  ];

  it.each(steps.map((s) => [s.action, s] as const))('%s leaves exactly one audit entry', async (action, step) => {
    const before: Array<{ n: number }> = await api.query(`SELECT count(*)::int AS n FROM staff_audit`);
    const staff = step.as();
    await step.run(staff);
    const rows = await api.query(`SELECT action, actor_email FROM staff_audit ORDER BY created_at DESC LIMIT 2`);
    const [after]: Array<{ n: number }> = await api.query(`SELECT count(*)::int AS n FROM staff_audit`);
    expect(after.n - before[0].n).toBe(1);
    expect(rows[0].action).toBe(action);
    if (action !== 'STAFF_CREATED') expect(rows[0].actor_email).toBe(staff.email);
  });

  it('lists the entries newest first, filtered by action, with details as JSON text', async () => {
    const r = await staffOk(api, moderator.token, `{ allAuditEntries(filter: { action: ROLLOUT_RULE_UPDATED }) { action targetType targetId details actorEmail } _allAuditEntriesMeta(filter: { action: ROLLOUT_RULE_UPDATED }) { count } }`);
    expect(r._allAuditEntriesMeta.count).toBe(1);
    const [entry] = r.allAuditEntries;
    expect(entry).toMatchObject({ action: 'ROLLOUT_RULE_UPDATED', targetType: 'RolloutRule', targetId: ruleId, actorEmail: admin.email });
    expect(JSON.parse(entry.details)).toMatchObject({ before: { percentage: 30 }, after: { percentage: 60 } });
    const all = await staffOk(api, moderator.token, `{ allAuditEntries(perPage: 100) { createdAt } }`);
    const times = all.allAuditEntries.map((e: { createdAt: string }) => e.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('rollout changes also keep the rollout audit trail, with the staff email as actor', async () => {
    const rows = await api.query(`SELECT action, actor FROM rollout_audit WHERE rule_id = $1 ORDER BY created_at`, [ruleId]);
    expect(rows).toEqual([
      { action: 'CREATE', actor: admin.email },
      { action: 'UPDATE', actor: admin.email },
      { action: 'DELETE', actor: admin.email },
    ]);
  });
});
