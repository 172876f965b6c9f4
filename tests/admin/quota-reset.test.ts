/**
 * Quota inspection and reset with the AI answering from the loopback OpenAI fake: an
 * exhausted user is forgiven by an admin and the AI answers them again.
 */
import { createStaff, staffOk, TestStaff } from '../support/admin';
import { FakeOpenAI } from '../support/fake-openai';
import { TestApi } from '../support/harness';
import { aiMessages, quotaOf, settled, startAiApi, tableCount } from '../ai/ai-support';

let fake: FakeOpenAI;
let api: TestApi;
let admin: TestStaff;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  api = await startAiApi(fake, { AI_QUOTA: 'free=1/1h' });
  admin = await createStaff(api, { role: 'admin' });
});
afterAll(async () => {
  await api?.stop();
  await fake?.stop();
});

const USER = `query($id: ID!) { User(id: $id) { id plan quota { window limit used remaining resetsAt resetAt }
  recentResponses(limit: 5) { model plan charged chargedUserId status latencyMs } } }`;

it('an exhausted user can make the AI answer again after resetQuota; staff see usage, responses and exhaustions', async () => {
  const alice = await api.user({ plan: 'free' });
  const bob = await api.user({ plan: 'plus' });
  const groupId = await api.group(alice, [bob]);
  await api.send(alice, groupId, '@AI when does the museum open?');
  await settled(api);
  await api.send(alice, groupId, '@AI and when does it close?');
  await settled(api);
  expect(await aiMessages(api, bob, groupId)).toHaveLength(1);
  expect(await tableCount(api, `SELECT 1 FROM quota_exhaustions WHERE user_id = $1`, [alice.id])).toBe(1);

  const before = (await staffOk(api, admin.token, USER, { id: alice.id })).User;
  expect(before.quota).toEqual([{ window: '1h', limit: 1, used: 1, remaining: 0, resetsAt: expect.any(String), resetAt: null }]);
  expect(before.recentResponses).toEqual([{ model: 'test-fast', plan: 'free', charged: true, chargedUserId: alice.id, status: 'COMPLETED', latencyMs: expect.any(Number) }]);
  const dash = (await staffOk(api, admin.token, `{ dashboard { responsesByPlanModel { plan model count } exhaustionsByPlan { plan count } } }`)).dashboard;
  expect(dash).toEqual({ responsesByPlanModel: [{ plan: 'free', model: 'test-fast', count: 1 }], exhaustionsByPlan: [{ plan: 'free', count: 1 }] });

  const reset = await staffOk(api, admin.token, `mutation($id: ID!) { resetQuota(userId: $id, reason: "support ticket 42") { quota { used remaining resetAt } } }`, { id: alice.id });
  expect(reset.resetQuota.quota).toEqual([{ used: 0, remaining: 1, resetAt: expect.any(String) }]);
  expect(await quotaOf(api, alice)).toMatchObject({ used: 0, remaining: 1 });

  await api.send(alice, groupId, '@AI and is there a café?');
  await settled(api);
  const replies = await aiMessages(api, bob, groupId);
  expect(replies.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED']);
  expect(await quotaOf(api, alice)).toMatchObject({ used: 1, remaining: 0 });

  const responses = await staffOk(api, admin.token, `query($u: ID!) { allModelResponses(filter: { chargedUserId: $u }) { id charged } _allModelResponsesMeta(filter: { chargedUserId: $u }) { count } }`, { u: alice.id });
  expect(responses._allModelResponsesMeta.count).toBe(2);
  const [audit] = await api.query(`SELECT action, target_id, reason, details FROM staff_audit WHERE action = 'QUOTA_RESET'`);
  expect(audit).toMatchObject({ target_id: alice.id, reason: 'support ticket 42', details: { usedBefore: 1, limit: 1, plan: 'free' } });
});
