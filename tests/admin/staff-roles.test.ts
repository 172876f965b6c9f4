/**
 * Issue 10, item 10: one rule for staff roles, in the API, its schema, and the README.
 * Deciding a case, suspending its author (SUSPEND_AUTHOR) included, is a moderator's job
 * (and an admin's); suspending or unsuspending from a user's page is an admin's only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createStaff, staffGql, TestStaff } from '../support/admin';
import { errorCodes, startApi, TestApi } from '../support/harness';

let api: TestApi;
const staff: Record<'moderator' | 'admin', TestStaff> = {} as never;

beforeAll(async () => {
  api = await startApi();
  [staff.moderator, staff.admin] = await Promise.all([createStaff(api, { role: 'moderator' }), createStaff(api, { role: 'admin' })]);
});
afterAll(() => api?.stop());

const DECIDE = `mutation($id: ID!, $d: CaseDecision!, $r: String!) { decideSafetyCase(id: $id, decision: $d, reason: $r) { status decidedBy } }`;
const SUSPEND = `mutation($id: ID!) { suspendUser(id: $id, reason: "from the user's page") { suspended } }`;
const UNSUSPEND = `mutation($id: ID!) { unsuspendUser(id: $id, reason: "appeal") { suspended } }`;
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`;

/** A group message reported by a member: an open USER_REPORT case about its author. */
async function openCase() {
  const [author, reporter] = await api.users(2);
  const groupId = await api.group(author, [reporter]);
  const message = await api.send(author, groupId, 'you are all idiots');
  await api.ok(reporter.token, `mutation($m: ID!) { reportMessage(messageId: $m, reason: "insulting") { id } }`, { m: message.id });
  const [c] = await api.query<{ id: string }>(`SELECT id FROM safety_cases WHERE message_id = $1`, [message.id]);
  return { author, groupId, caseId: c.id };
}

const suspended = async (userId: string) => (await api.query<{ s: boolean }>(`SELECT suspended_at IS NOT NULL AS s FROM users WHERE id = $1`, [userId]))[0].s;
const auditCount = async () => (await api.query<{ n: number }>(`SELECT count(*)::int AS n FROM staff_audit`))[0].n;

describe.each(['moderator', 'admin'] as const)('a %s', (role) => {
  it.each(['DISMISS', 'REMOVE_MESSAGE', 'SUSPEND_AUTHOR'])('decides a case: %s', async (decision) => {
    const { author, groupId, caseId } = await openCase();
    const r = await staffGql(api, staff[role].token, DECIDE, { id: caseId, d: decision, r: 'reviewed' });
    expect(errorCodes(r)).toEqual([]);
    expect(r.data.decideSafetyCase.decidedBy).toBe(staff[role].email);
    expect(await suspended(author.id)).toBe(decision === 'SUSPEND_AUTHOR');
    if (decision === 'SUSPEND_AUTHOR') {
      const refused = await api.gql(author.token, SEND, { i: { groupId, body: 'again', clientMessageId: `again-${role}` } });
      expect(errorCodes(refused)).toEqual(['SUSPENDED']);
    }
  });
});

describe('suspending from a user\'s page', () => {
  it('is refused to a moderator (FORBIDDEN), both ways, and changes nothing', async () => {
    const user = await api.user();
    const before = await auditCount();
    expect(errorCodes(await staffGql(api, staff.moderator.token, SUSPEND, { id: user.id }))).toEqual(['FORBIDDEN']);
    expect(await suspended(user.id)).toBe(false);

    // Not even the suspension a moderator made by deciding a case can be lifted by one.
    const { author, caseId } = await openCase();
    expect(errorCodes(await staffGql(api, staff.moderator.token, DECIDE, { id: caseId, d: 'SUSPEND_AUTHOR', r: 'abuse' }))).toEqual([]);
    const afterDecision = await auditCount();
    expect(errorCodes(await staffGql(api, staff.moderator.token, UNSUSPEND, { id: author.id }))).toEqual(['FORBIDDEN']);
    expect(await suspended(author.id)).toBe(true);
    expect(await auditCount()).toBe(afterDecision);
    expect(afterDecision).toBe(before + 1);
  });

  it('is an admin\'s: suspend and unsuspend, a case\'s suspension included', async () => {
    const user = await api.user();
    expect((await staffGql(api, staff.admin.token, SUSPEND, { id: user.id })).data).toEqual({ suspendUser: { suspended: true } });
    expect((await staffGql(api, staff.admin.token, UNSUSPEND, { id: user.id })).data).toEqual({ unsuspendUser: { suspended: false } });

    const { author, groupId, caseId } = await openCase();
    await staffGql(api, staff.moderator.token, DECIDE, { id: caseId, d: 'SUSPEND_AUTHOR', r: 'abuse' });
    expect((await staffGql(api, staff.admin.token, UNSUSPEND, { id: author.id })).data).toEqual({ unsuspendUser: { suspended: false } });
    expect(errorCodes(await api.gql(author.token, SEND, { i: { groupId, body: 'back', clientMessageId: 'back' } }))).toEqual([]);
  });
});

describe('the documentation says the same', () => {
  const root = path.resolve(__dirname, '../..');

  it('the README: moderators decide cases and suspend a case\'s author; only admins suspend or unsuspend from a user\'s page', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const rule = /Moderators review cases[^]*?The API enforces the roles/.exec(readme)?.[0] ?? '';
    expect(rule).toMatch(/deciding a case is theirs, suspending its author \(`decideSafetyCase` with `SUSPEND_AUTHOR`\) included/);
    expect(rule).toMatch(/Admins also [^.]*suspend or unsuspend users from a user's page \(`suspendUser`, `unsuspendUser`\)/);
    expect(readme).not.toMatch(/admins also change rollout rules, reset quotas and suspend users\./i);
  });

  it('the staff schema\'s descriptions', () => {
    const schema = readFileSync(path.join(root, 'schema/admin.graphql'), 'utf8');
    const describe = (field: string) => new RegExp(`"""\\s*([^"]*?)\\s*"""\\s*${field}\\(`).exec(schema)?.[1] ?? '';
    expect(describe('decideSafetyCase')).toMatch(/moderators and admins; SUSPEND_AUTHOR suspends the case's author/);
    expect(describe('suspendUser')).toMatch(/\(admin; moderators suspend an author by deciding a case/);
    expect(describe('unsuspendUser')).toMatch(/\(admin\)/);
  });
});
