/**
 * An honest no-provider mode (issue 12, item 3). Without a model provider the AI stays
 * out of the thread: AUTO is silent, a mention gets a notice for the mentioner alone (no
 * AI message, no job, no charge), `serverInfo { aiAvailable }` says so, and the log says at
 * boot that the AI is off and which settings turn it on.
 */
import { FakeOpenAI } from '../support/fake-openai';
import { startApi, TestApi } from '../support/harness';
import { ensureBuilt } from '../support/build';
import { createDatabase } from '../support/harness';
import { startService } from '../lifecycle/service';
import { freePort } from '../../api/src/db/embedded';
import { history, ofType, quotaOf, settled, startAiApi, tableCount, untilMessage, updateGroup, watch } from './ai-support';

let plain: TestApi;
beforeAll(async () => {
  // ROLE=api runs no jobs: a job enqueued for any of these messages would still be in the queue.
  plain = await startApi({ ROLE: 'api' });
});
afterAll(() => plain?.stop());

async function nothingOfTheAi(groupId: string): Promise<void> {
  expect(await tableCount(plain, `SELECT 1 FROM messages WHERE group_id = $1 AND kind = 'AI'`, [groupId])).toBe(0);
  expect(await tableCount(plain, `SELECT 1 FROM model_responses WHERE group_id = $1`, [groupId])).toBe(0);
  // No job for a message the AI cannot answer.
  expect(await tableCount(plain, `SELECT 1 FROM graphile_worker.jobs WHERE key IN (SELECT 'ai.respond:' || id FROM messages WHERE group_id = $1)`, [groupId])).toBe(0);
}

it('AUTO stays silent: a question to the group gets no AI message, no job and no notice', async () => {
  const [alice, bob] = await plain.users(2);
  const groupId = await plain.group(alice, [bob]);
  await updateGroup(plain, alice, groupId, { aiMode: 'AUTO' });
  const aliceSub = await watch(plain, alice, groupId);

  const asked = await plain.send(alice, groupId, 'What is the fastest way from Kyoto to Osaka?');
  const later = await plain.send(bob, groupId, 'no idea, I will look it up');
  await untilMessage(aliceSub, later.id);
  await settled(plain);

  expect((await history(plain, alice, groupId)).map((m) => m.id)).toEqual([asked.id, later.id]);
  expect(ofType(aliceSub, 'AI_NOTICE')).toEqual([]);
  await nothingOfTheAi(groupId);
});

it('a mention gets an AI_NOT_CONFIGURED notice for the mentioner alone, not a message in the thread, and costs nothing', async () => {
  const [alice, bob] = await plain.users(2);
  const groupId = await plain.group(alice, [bob]);
  const [aliceSub, bobSub] = await Promise.all([watch(plain, alice, groupId), watch(plain, bob, groupId)]);

  const mention = await plain.send(alice, groupId, '@AI where should we eat tonight?');
  await aliceSub.events.until((evs) => evs.some((e) => e.type === 'AI_NOTICE'));
  const later = await plain.send(bob, groupId, 'pizza it is');
  await untilMessage(bobSub, later.id);
  await untilMessage(aliceSub, later.id);
  await settled(plain);

  expect(ofType(aliceSub, 'AI_NOTICE')).toEqual([
    expect.objectContaining({ seq: null, notice: expect.objectContaining({ code: 'AI_NOT_CONFIGURED', messageId: mention.id, message: expect.stringMatching(/not set up/) }) }),
  ]);
  expect(ofType(bobSub, 'AI_NOTICE')).toEqual([]);
  expect(ofType(bobSub, 'MESSAGE_CREATED').map((e) => e.message.kind)).toEqual(['USER', 'USER']);
  expect((await history(plain, bob, groupId)).map((m) => m.kind)).toEqual(['USER', 'USER']);
  expect((await quotaOf(plain, alice)).used).toBe(0);
  await nothingOfTheAi(groupId);
});

it('serverInfo tells clients whether the AI is available, without a token', async () => {
  const fake = await FakeOpenAI.start();
  const withAi = await startAiApi(fake);
  try {
    const query = `{ serverInfo { aiAvailable aiName } }`;
    expect((await plain.ok(null, query)).serverInfo).toEqual({ aiAvailable: false, aiName: 'AI' });
    expect((await withAi.ok(null, query)).serverInfo).toEqual({ aiAvailable: true, aiName: 'AI' });
  } finally {
    await withAi.stop();
    await fake.stop();
  }
});

describe('the boot log', () => {
  beforeAll(ensureBuilt, 180_000);

  it.each([
    ['without a provider', {}, true],
    ['with OPENAI_API_KEY', { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, false],
  ])('%s: says at boot whether the AI is off, and which settings turn it on', async (_name, env, off) => {
    const port = await freePort();
    const svc = startService({ PORT: String(port), DATABASE_URL: await createDatabase(), ...env });
    try {
      await svc.waitFor('Roundtable is listening', 60_000);
      const line = svc.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('the AI is off'));
      if (off) expect(line).toMatchObject({ level: 40, msg: expect.stringMatching(/OPENAI_API_KEY.*OPENAI_BASE_URL/) });
      else expect(line).toBeUndefined();
    } finally {
      svc.kill();
    }
  });
});
