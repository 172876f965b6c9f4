/**
 * Starting a group reply (`start_ai_reply`): the author's unit and the STREAMING message
 * with its event are one call, and neither exists without the other.
 */
import { startAiReply, ReplyStartInput } from '../../api/src/ai/ai-message.store';
import { FakeOpenAI } from '../support/fake-openai';
import { lastSeq, TestApi, TestUser } from '../support/harness';
import { settled, startAiApi } from './ai-support';

let fake: FakeOpenAI;
let api: TestApi;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  api = await startAiApi(fake, { AI_QUOTA: 'free=1/1h' });
});
afterAll(async () => {
  await api?.stop();
  await fake?.stop();
});

async function trigger(author: TestUser, groupId: string): Promise<ReplyStartInput> {
  // No mention: the responder stays out of it, the test starts the reply itself.
  const sent = await api.send(author, groupId, 'what a lovely evening');
  await settled(api);
  return {
    user: { id: author.id, plan: 'free' },
    limit: { max: 1, windowMs: 3_600_000 },
    groupId,
    triggerMessageId: sent.id,
    tier: 'fast',
    model: 'gpt-test-fast',
    routeReason: 'test',
  };
}

const responsesOf = (user: TestUser) => api.query(`SELECT status, charged, message_id AS "messageId" FROM model_responses WHERE charged_user_id = $1`, [user.id]);

it('reserves the unit and creates the STREAMING message and its MESSAGE_CREATED event together', async () => {
  const [alice, bob] = await api.users(2, { plan: 'free' });
  const groupId = await api.group(alice, [bob]);
  const input = await trigger(alice, groupId);
  const before = await lastSeq(api, groupId);

  const start = await startAiReply(api.app.services.db, input);

  if (!start.started) throw new Error('the reply did not start');
  expect(start.message.seq).toBe(before + 1);
  expect(start.status).toMatchObject({ used: 1, remaining: 0 });
  expect(start.event).toMatchObject({ type: 'MESSAGE_CREATED', seq: before + 1, message: { id: start.message.id, kind: 'AI', status: 'STREAMING', body: '' } });
  expect(await api.query(`SELECT type FROM group_events WHERE group_id = $1 AND seq = $2`, [groupId, before + 1])).toEqual([{ type: 'MESSAGE_CREATED' }]);
  expect(await responsesOf(alice)).toEqual([{ status: 'STREAMING', charged: true, messageId: start.message.id }]);
});

it('with no unit left creates nothing and returns the exhausted status', async () => {
  const [alice, bob] = await api.users(2, { plan: 'free' });
  const groupId = await api.group(alice, [bob]);
  const input = await trigger(alice, groupId);
  expect((await startAiReply(api.app.services.db, input)).started).toBe(true);
  // Another trigger: one trigger has at most one reply (start_ai_reply refuses a second).
  const next = await trigger(alice, groupId);
  const before = await lastSeq(api, groupId);

  const start = await startAiReply(api.app.services.db, next);

  expect(start).toMatchObject({ started: false, closed: false, status: { used: 1, remaining: 0 } });
  expect(await lastSeq(api, groupId)).toBe(before);
  expect(await responsesOf(alice)).toHaveLength(1);
});

it('in a closed group charges nothing and creates nothing', async () => {
  const [alice, bob] = await api.users(2, { plan: 'free' });
  const groupId = await api.group(alice, [bob]);
  const input = await trigger(alice, groupId);
  await api.query(`UPDATE groups SET closed_at = now() WHERE id = $1`, [groupId]);
  const before = await lastSeq(api, groupId);

  expect(await startAiReply(api.app.services.db, input)).toEqual({ started: false, closed: true });
  expect(await lastSeq(api, groupId)).toBe(before);
  expect(await responsesOf(alice)).toEqual([]);
});
