/**
 * The `ai.respond` job runs at least once and is idempotent by its trigger message: the
 * same job run twice, or several workers racing for one trigger, post one AI reply, keep
 * one model response and charge one unit (issue 11, item 1). Real graphile-worker runners
 * on a real PostgreSQL, the real provider client against the loopback fake.
 */
import { FakeOpenAI, gate } from '../support/fake-openai';
import { createDatabase, startApi, TestApi, TestUser } from '../support/harness';
import { MODELS, quotaOf, settled, updateGroup } from '../ai/ai-support';

let fake: FakeOpenAI;
const apis: TestApi[] = [];

const aiEnv = () => ({
  OPENAI_BASE_URL: fake.baseUrl,
  OPENAI_API_KEY: 'test',
  AI_MAX_RETRIES: '0',
  AI_MODEL_FAST: MODELS.fast,
  AI_MODEL_REASONING: MODELS.reasoning,
  AI_MODEL_TOP: MODELS.top,
  AI_QUOTA: 'free=50/1h',
});

beforeAll(async () => {
  fake = await FakeOpenAI.start();
});
afterEach(() => fake.reset());
afterAll(async () => {
  for (const api of apis) await api.stop();
  await fake?.stop();
});

async function counts(api: TestApi, groupId: string, triggerId: string) {
  const [row] = await api.query<{ ai: number; responses: number; charged: number }>(
    `SELECT (SELECT count(*)::int FROM messages WHERE group_id = $1 AND kind = 'AI') AS ai,
            (SELECT count(*)::int FROM model_responses WHERE trigger_message_id = $2) AS responses,
            (SELECT count(*)::int FROM model_responses WHERE trigger_message_id = $2 AND charged) AS charged`,
    [groupId, triggerId],
  );
  return row;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pendingJobs = async (api: TestApi) => (await api.query<{ n: number }>(`SELECT count(*)::int AS n FROM graphile_worker.jobs`))[0].n;

it('a second run of the job for the same trigger, while the first streams and after it, posts nothing and charges nothing', async () => {
  const api = await startApi(aiEnv());
  apis.push(api);
  const [alice, bob] = await api.users(2, { plan: 'free' });
  const groupId = await api.group(alice, [bob]);
  await updateGroup(api, alice, groupId, { aiMode: 'MENTIONS' });
  const resume = gate();
  fake.enqueue({ chunks: ['Hello ', 'there', '.'], stallAfterChunks: 1, resume: resume.promise });

  const trigger = await api.send(alice, groupId, '@AI what time is it in Lisbon?');
  await fake.waitForChatRequests(1, 20_000);
  // The same job again, by hand, while the first run streams: it must find the reply and leave.
  await api.query(`SELECT graphile_worker.add_job('ai.respond', json_build_object('messageId', $1::uuid), job_key => 'again-1')`, [trigger.id]);
  await until(async () => (await pendingJobs(api)) === 1, 'the second run to finish');
  resume.open();
  await settled(api);
  // And once more after the reply completed.
  await api.query(`SELECT graphile_worker.add_job('ai.respond', json_build_object('messageId', $1::uuid), job_key => 'again-2')`, [trigger.id]);
  await settled(api);

  expect(await counts(api, groupId, trigger.id)).toEqual({ ai: 1, responses: 1, charged: 1 });
  expect(fake.chatRequests()).toHaveLength(1);
  expect((await quotaOf(api, alice)).used).toBe(1);
  const [reply] = await api.query(`SELECT body, status FROM messages WHERE group_id = $1 AND kind = 'AI'`, [groupId]);
  expect(reply).toEqual({ body: 'Hello there.', status: 'COMPLETED' });
});

it('two instances whose workers race for one trigger post one reply and charge one unit', async () => {
  const databaseUrl = await createDatabase();
  const a = await startApi(aiEnv(), databaseUrl);
  apis.push(a);
  const b = await startApi(aiEnv(), databaseUrl);
  apis.push(b);
  const [alice, bob]: TestUser[] = await a.users(2, { plan: 'free' });
  const groupId = await a.group(alice, [bob]);
  // Sent with the AI off (no job), then the AI is turned on and six jobs for that one trigger
  // are enqueued at once: both instances' workers are woken together and race.
  await updateGroup(a, alice, groupId, { aiMode: 'OFF' });
  const trigger = await a.send(alice, groupId, '@AI which train goes to Porto?');
  await settled(a);
  await updateGroup(a, alice, groupId, { aiMode: 'MENTIONS' });
  fake.onChat(() => ({ text: 'The 10:09 Alfa Pendular.', chunkDelayMs: 5 }));
  await a.query(
    `SELECT graphile_worker.add_job('ai.respond', json_build_object('messageId', $1::uuid), job_key => 'race-' || i) FROM generate_series(1, 6) AS i`,
    [trigger.id],
  );
  await until(async () => (await pendingJobs(a)) === 0, 'every racing job to finish');
  await settled(a);
  await settled(b);

  expect(await counts(a, groupId, trigger.id)).toEqual({ ai: 1, responses: 1, charged: 1 });
  expect(fake.chatRequests()).toHaveLength(1);
  expect((await quotaOf(a, alice)).used).toBe(1);
});
