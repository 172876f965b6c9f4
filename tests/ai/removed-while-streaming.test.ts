/**
 * Staff may remove an AI message while its reply still streams (a member reported it). The
 * reply then has no message to end, and no statement storing it settles its model response:
 * the takeover sweep must, once the reply's deadline and lease are past, or the response
 * stays STREAMING with its unit used, taken again at every heartbeat.
 */
import { createStaff, REPORT_MESSAGE, staffOk } from '../support/admin';
import { FakeOpenAI, gate } from '../support/fake-openai';
import { eventually, TestApi } from '../support/harness';
import { quotaOf, startAiApi } from './ai-support';

let fake: FakeOpenAI;
let api: TestApi;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  // The shortest deadline and lease there are: the sweep takes the reply a few seconds on.
  api = await startAiApi(fake, { AI_REPLY_DEADLINE_MS: '1500', AI_REPLY_LEASE_MS: '2000' });
});
afterAll(async () => {
  await api?.stop();
  await fake?.stop();
});

const DECIDE = `mutation($id: ID!, $d: CaseDecision!, $r: String!) { decideSafetyCase(id: $id, decision: $d, reason: $r) { status } }`;

it('an AI message removed by staff while it streams: its model response ends FAILED CANCELLED, once, and the unit is given back', async () => {
  const moderator = await createStaff(api, { role: 'moderator' });
  const [alice, bob] = await api.users(2, { plan: 'plus' });
  const groupId = await api.group(alice, [bob]);
  const resume = gate();
  fake.enqueue({ chunks: ['Something ', 'that ', 'gets reported.'], stallAfterChunks: 1, resume: resume.promise });
  await api.send(alice, groupId, '@AI tell me something');
  const [request] = await fake.waitForChatRequests(1, 30_000);
  await eventually(() => request.stalled === true, 30_000);

  const [streaming] = await api.query<{ id: string }>(`SELECT id FROM messages WHERE group_id = $1 AND kind = 'AI' AND status = 'STREAMING'`, [groupId]);
  await api.ok(bob.token, REPORT_MESSAGE, { m: streaming.id, r: 'do not want this' });
  const [reported] = await api.query<{ id: string }>(`SELECT id FROM safety_cases WHERE message_id = $1 AND status = 'OPEN'`, [streaming.id]);
  expect((await staffOk(api, moderator.token, DECIDE, { id: reported.id, d: 'REMOVE_MESSAGE', r: 'reported' })).decideSafetyCase.status).toBe('MESSAGE_REMOVED');
  resume.open();

  // The reply's own ending finds no message to end; the sweep settles what it left.
  const response = () => api.query<{ status: string; statusReason: string | null; charged: boolean; takeovers: number }>(
    `SELECT status, status_reason AS "statusReason", charged, takeovers FROM model_responses WHERE charged_user_id = $1`,
    [alice.id],
  );
  await eventually(async () => (await response())[0].status !== 'STREAMING', 30_000);
  expect(await response()).toEqual([{ status: 'FAILED', statusReason: 'CANCELLED', charged: false, takeovers: 1 }]);
  expect((await quotaOf(api, alice)).used).toBe(0);
  const [message] = await api.query(`SELECT status, body FROM messages WHERE id = $1`, [streaming.id]);
  expect(message).toEqual({ status: 'DELETED', body: '' });
});
