/**
 * A safety review staff can trust (issue 12, item 4), over real HTTP, graphql-ws and
 * PostgreSQL, with moderation by the loopback provider so a test decides when a message is
 * flagged: one open case per message whatever raised it (reports and automatic flags join
 * it as sources, in either order and in parallel), a decision settles every source, a removed
 * message's text stays on its case for staff only, and the evidence job purges it after
 * SAFETY_EVIDENCE_RETENTION_DAYS.
 */
import { randomUUID } from 'node:crypto';
import { FakeOpenAI, MODERATION_KEYS } from '../support/fake-openai';
import { errorCodes, TestApi, TestUser } from '../support/harness';
import { createStaff, REPORT_MESSAGE, staffOk, TestStaff } from '../support/admin';
import { settled, startAiApi, updateGroup } from '../ai/ai-support';

jest.setTimeout(60_000);

let fake: FakeOpenAI;
let api: TestApi;
let moderator: TestStaff;
/** Texts the moderation endpoint flags; a gate holds a text's scoring until the test opens it. */
const threats = new Map<string, Promise<void>>();

const clean = { flagged: false, category_scores: Object.fromEntries(MODERATION_KEYS.map((k) => [k, 0.01])) };
const violent = { flagged: true, category_scores: { violence: 0.97, 'violence/graphic': 0.9 } };

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  api = await startAiApi(fake, { OPENAI_MODERATION: 'true', SAFETY_EVIDENCE_RETENTION_DAYS: '30' });
  moderator = await createStaff(api, { role: 'moderator' });
  fake.onModeration(async (input) => {
    const threat = [...threats.keys()].find((t) => input.includes(t));
    if (threat === undefined) return clean;
    await threats.get(threat);
    return violent;
  });
});
afterAll(async () => {
  if (api) {
    await settled(api);
    await api.stop();
  }
  await fake?.stop();
});

const DECIDE = `mutation($id: ID!, $d: CaseDecision!, $r: String!) { decideSafetyCase(id: $id, decision: $d, reason: $r) { id status } }`;
const CASE = `query($id: ID!) { SafetyCase(id: $id) {
  id source status categories severity reportCount reportReasons evidence evidencePurgedAt evidenceRetentionDays excerpt
  message { id body deleted }
  sources { kind reporterId reporterUsername reason evidence createdAt settled decision } } }`;
const HISTORY = `query($g: ID!) { messages(groupId: $g, first: 50) { edges { node { id body status } } } }`;

/** A threat nobody else sends, which moderation flags (once `release` is called, when held). */
function threat(held = false): { text: string; release: () => void } {
  const text = `I will hurt you tomorrow ${randomUUID().slice(0, 8)}`;
  let release = () => undefined as void;
  threats.set(text, held ? new Promise<void>((r) => (release = r)) : Promise.resolve());
  return { text, release };
}

/** A group with the AI off (only moderation after delivery follows a message) and `n` members besides the author. */
async function quietGroup(n: number): Promise<{ author: TestUser; others: TestUser[]; groupId: string }> {
  const [author, ...others] = await api.users(n + 1);
  const groupId = await api.group(author, others, 'Study group');
  await updateGroup(api, author, groupId, { aiMode: 'OFF' });
  return { author, others, groupId };
}

async function casesOf(messageId: string): Promise<Array<{ id: string; status: string }>> {
  return api.query(`SELECT id, status FROM safety_cases WHERE message_id = $1 ORDER BY created_at`, [messageId]);
}

async function staffCase(id: string): Promise<any> {
  return (await staffOk(api, moderator.token, CASE, { id })).SafetyCase;
}

describe('one open case per message', () => {
  it('a report on a message moderation already flagged joins its case, with the reporter and the reason', async () => {
    const { author, others: [bob], groupId } = await quietGroup(1);
    const { text } = threat();
    const m = await api.send(author, groupId, text);
    await settled(api);
    expect((await casesOf(m.id)).map((c) => c.status)).toEqual(['OPEN']);

    await api.ok(bob.token, REPORT_MESSAGE, { m: m.id, r: 'he is threatening me' });
    const cases = await casesOf(m.id);
    expect(cases).toHaveLength(1);
    const c = await staffCase(cases[0].id);
    expect(c).toMatchObject({ source: 'AUTO_FLAG', status: 'OPEN', severity: 'high', reportCount: 1, reportReasons: ['he is threatening me'], evidence: text });
    expect(c.categories).toContain('violence');
    expect(c.sources).toEqual([
      expect.objectContaining({ kind: 'AUTO_FLAG', reporterId: null, reason: null, evidence: text, settled: false, decision: null }),
      expect.objectContaining({ kind: 'USER_REPORT', reporterId: bob.id, reporterUsername: bob.username, reason: 'he is threatening me', evidence: text, settled: false }),
    ]);
  });

  it("an automatic flag on a message already reported joins the report's case, which takes its categories and severity", async () => {
    const { author, others: [bob], groupId } = await quietGroup(1);
    const held = threat(true);
    const m = await api.send(author, groupId, held.text);
    // The report is filed while moderation is still scoring the message.
    await api.ok(bob.token, REPORT_MESSAGE, { m: m.id, r: 'scary' });
    const [opened] = await casesOf(m.id);
    expect(await staffCase(opened.id)).toMatchObject({ source: 'USER_REPORT', categories: ['reported'], severity: 'medium', sources: [expect.objectContaining({ kind: 'USER_REPORT' })] });

    held.release();
    await settled(api);
    expect(await casesOf(m.id)).toEqual([opened]);
    const c = await staffCase(opened.id);
    expect(c).toMatchObject({ source: 'USER_REPORT', status: 'OPEN', severity: 'high', reportCount: 1 });
    expect(c.categories).toContain('violence');
    expect(c.categories).not.toContain('reported');
    expect(c.sources.map((s: any) => [s.kind, s.reporterId])).toEqual([
      ['USER_REPORT', bob.id],
      ['AUTO_FLAG', null],
    ]);
  });

  it('10 parallel reports racing the automatic flag end in one case with 10 report sources and the flag; parallel repeats add nothing', async () => {
    const { author, others, groupId } = await quietGroup(10);
    const { text } = threat();
    const m = await api.send(author, groupId, text);
    const results = await Promise.all(others.map((u, i) => api.gql(u.token, REPORT_MESSAGE, { m: m.id, r: `reason ${i}` })));
    expect(results.flatMap(errorCodes)).toEqual([]);
    await settled(api);
    const cases = await casesOf(m.id);
    expect(cases).toHaveLength(1);
    const c = await staffCase(cases[0].id);
    expect(c.reportCount).toBe(10);
    expect(c.sources.filter((s: any) => s.kind === 'AUTO_FLAG')).toHaveLength(1);
    expect(new Set(c.sources.map((s: any) => s.reporterId).filter(Boolean))).toEqual(new Set(others.map((u) => u.id)));

    // The same reporters again, at once, with new reasons: a repeat is idempotent, not an error.
    const again = await Promise.all(others.map((u) => api.gql(u.token, REPORT_MESSAGE, { m: m.id, r: 'again' })));
    expect(again.flatMap(errorCodes)).toEqual([]);
    expect(again.map((r) => r.data.reportMessage.id)).toEqual(results.map((r) => r.data.reportMessage.id));
    const after = await staffCase(cases[0].id);
    expect(after.sources).toHaveLength(11);
    expect([...after.reportReasons].sort()).toEqual(others.map((_, i) => `reason ${i}`).sort());
  });

  it('a decision settles every source; a later report of the message, even by an earlier reporter, opens a new case', async () => {
    const { author, others: [bob, carol], groupId } = await quietGroup(2);
    const { text } = threat();
    const m = await api.send(author, groupId, text);
    await settled(api);
    await api.ok(bob.token, REPORT_MESSAGE, { m: m.id, r: 'first time' });
    await api.ok(carol.token, REPORT_MESSAGE, { m: m.id, r: 'me too' });
    const [first] = await casesOf(m.id);
    await staffOk(api, moderator.token, DECIDE, { id: first.id, d: 'DISMISS', r: 'a line from a film' });

    const decided = await staffCase(first.id);
    expect(decided.sources).toHaveLength(3);
    expect(decided.sources.every((s: any) => s.settled && s.decision === 'DISMISSED')).toBe(true);
    expect(await api.query(`SELECT DISTINCT status FROM message_reports WHERE message_id = $1`, [m.id])).toEqual([{ status: 'RESOLVED' }]);

    await api.ok(bob.token, REPORT_MESSAGE, { m: m.id, r: 'he said it again in DMs' });
    const cases = await casesOf(m.id);
    expect(cases.map((c) => c.status)).toEqual(['DISMISSED', 'OPEN']);
    const reopened = await staffCase(cases[1].id);
    expect(reopened.sources).toEqual([expect.objectContaining({ kind: 'USER_REPORT', reporterId: bob.id, reason: 'he said it again in DMs', settled: false, decision: null })]);
    // The decided case keeps bob's first report as it was.
    expect((await staffCase(first.id)).sources.find((s: any) => s.reporterId === bob.id)).toMatchObject({ reason: 'first time', settled: true });
  });
});

describe('evidence', () => {
  /** Everything a member can read of the group: history, the full replay of its events, as JSON. */
  async function memberView(member: TestUser, groupId: string): Promise<{ history: any[]; replay: string }> {
    const history = (await api.ok(member.token, HISTORY, { g: groupId })).messages.edges.map((e: any) => e.node);
    const [{ lastSeq }] = await api.query<{ lastSeq: number }>(`SELECT last_seq::int AS "lastSeq" FROM groups WHERE id = $1`, [groupId]);
    const replay = api.subscribe(member.token, groupId, 0);
    const events = await replay.until((e) => e.some((x) => x.seq === lastSeq));
    return { history, replay: JSON.stringify(events) };
  }

  it('a message removed by staff keeps its text on its case for staff; members see only the tombstone, in history and replay', async () => {
    const { author, others: [bob], groupId } = await quietGroup(1);
    const text = `meet me behind the gym ${randomUUID().slice(0, 8)}`;
    const m = await api.send(author, groupId, text);
    await api.ok(bob.token, REPORT_MESSAGE, { m: m.id, r: 'creepy' });
    const [c] = await casesOf(m.id);
    await staffOk(api, moderator.token, DECIDE, { id: c.id, d: 'REMOVE_MESSAGE', r: 'grooming risk' });

    const seen = await staffCase(c.id);
    expect(seen).toMatchObject({ status: 'MESSAGE_REMOVED', evidence: text, evidencePurgedAt: null, message: { id: m.id, deleted: true, body: null } });
    expect(seen.sources[0]).toMatchObject({ evidence: text, settled: true, decision: 'MESSAGE_REMOVED' });

    const view = await memberView(bob, groupId);
    expect(view.history.find((x) => x.id === m.id)).toEqual({ id: m.id, body: '', status: 'DELETED' });
    expect(JSON.stringify(view.history)).not.toContain(text);
    expect(view.replay).toContain(m.id);
    expect(view.replay).not.toContain(text);
  });

  it("a message its author deletes while its case is open stays readable on the case, not to members", async () => {
    const { author, others: [bob], groupId } = await quietGroup(1);
    const { text } = threat();
    const m = await api.send(author, groupId, text);
    await settled(api);
    const deleted = await api.ok(author.token, `mutation($m: ID!) { deleteMessage(messageId: $m) { id body status } }`, { m: m.id });
    expect(deleted.deleteMessage).toEqual({ id: m.id, body: '', status: 'DELETED' });

    const [c] = await casesOf(m.id);
    expect(await staffCase(c.id)).toMatchObject({ status: 'OPEN', evidence: text, message: { deleted: true, body: null } });
    const view = await memberView(bob, groupId);
    expect(JSON.stringify(view.history)).not.toContain(text);
    expect(view.replay).not.toContain(text);
    // Nor is it in the messages table any more: only the case holds it.
    expect(await api.query(`SELECT body FROM messages WHERE id = $1`, [m.id])).toEqual([{ body: '' }]);
  });

  it('the evidence job, run by the worker, purges cases decided more than SAFETY_EVIDENCE_RETENTION_DAYS ago and never an open case', async () => {
    // Registered as a graphile-worker cron item, so some instance runs it every hour.
    expect(await api.query(`SELECT identifier FROM graphile_worker._private_known_crontabs WHERE identifier = 'safety.purge-evidence'`)).toHaveLength(1);

    const { author, others: [bob], groupId } = await quietGroup(1);
    const texts = ['old and decided', 'recently decided', 'old but open'].map((t) => `${t} ${randomUUID().slice(0, 8)}`);
    const ids: string[] = [];
    for (const text of texts) {
      const m = await api.send(author, groupId, text);
      await api.ok(bob.token, REPORT_MESSAGE, { m: m.id, r: 'spam' });
      ids.push((await casesOf(m.id))[0].id);
    }
    const [expired, recent, open] = ids;
    await staffOk(api, moderator.token, DECIDE, { id: expired, d: 'REMOVE_MESSAGE', r: 'spam' });
    await staffOk(api, moderator.token, DECIDE, { id: recent, d: 'DISMISS', r: 'fine' });
    await api.query(`UPDATE safety_cases SET decided_at = now() - interval '31 days' WHERE id = $1`, [expired]);
    await api.query(`UPDATE safety_cases SET decided_at = now() - interval '29 days' WHERE id = $1`, [recent]);
    await api.query(`UPDATE safety_cases SET created_at = now() - interval '400 days' WHERE id = $1`, [open]);

    const runJob = async () => {
      await api.query(`SELECT graphile_worker.add_job('safety.purge-evidence', '{}'::json)`);
      await settled(api);
      expect(await api.query(`SELECT 1 FROM graphile_worker.jobs`)).toEqual([]);
    };
    await runJob();

    const purged = await staffCase(expired);
    expect(purged).toMatchObject({ evidence: null, excerpt: '', evidencePurgedAt: expect.any(String), evidenceRetentionDays: 30, reportReasons: ['spam'] });
    expect(purged.sources).toEqual([expect.objectContaining({ kind: 'USER_REPORT', reason: 'spam', evidence: null })]);
    expect(JSON.stringify(purged)).not.toContain(texts[0]);
    expect(await staffCase(recent)).toMatchObject({ evidence: texts[1], evidencePurgedAt: null });
    expect(await staffCase(open)).toMatchObject({ status: 'OPEN', evidence: texts[2], evidencePurgedAt: null });

    // Idempotent: running again changes nothing, the purge time included.
    await runJob();
    expect((await staffCase(expired)).evidencePurgedAt).toBe(purged.evidencePurgedAt);
    expect((await staffCase(open)).evidence).toBe(texts[2]);
  });
});
