/**
 * Which messages get an `ai.respond` job (issue 13): the send decides, in its own
 * statement, from the group's mode and whether the message speaks to the AI. In MENTIONS
 * mode a message that does not is never answered, so it must cost no job (the worker would
 * read the group, its history and members only to decide so).
 */
import { FakeOpenAI } from '../support/fake-openai';
import type { TestApi } from '../support/harness';
import { startAiApi, tableCount, updateGroup } from './ai-support';

let fake: FakeOpenAI;
let api: TestApi;
beforeAll(async () => {
  fake = await FakeOpenAI.start();
  // ROLE=api runs no jobs: every job enqueued stays in the queue to be counted.
  api = await startAiApi(fake, { ROLE: 'api', AI_NAME: 'Sage' });
});
afterAll(async () => {
  await api?.stop();
  await fake?.stop();
});

const jobFor = async (messageId: string) => (await tableCount(api, `SELECT 1 FROM graphile_worker.jobs WHERE key = $1`, [`ai.respond:${messageId}`])) === 1;

it('MENTIONS mode: a job only for a message that speaks to the AI, by @mention or by name', async () => {
  const [alice, bob] = await api.users(2);
  const groupId = await api.group(alice, [bob]);
  await updateGroup(api, alice, groupId, { aiMode: 'MENTIONS' });
  const question = await api.send(alice, groupId, 'What is the fastest way from Kyoto to Osaka?');
  const mention = await api.send(bob, groupId, '@Sage what is the fastest way from Kyoto to Osaka?');
  const byName = await api.send(alice, groupId, 'Sage, which train should we take?');
  const about = await api.send(bob, groupId, 'I asked a friend about trains');
  expect([await jobFor(question.id), await jobFor(mention.id), await jobFor(byName.id), await jobFor(about.id)]).toEqual([false, true, true, false]);
});

it('AUTO mode: a job for every message, the worker decides; OFF: none', async () => {
  const [alice, bob] = await api.users(2);
  const auto = await api.group(alice, [bob]);
  await updateGroup(api, alice, auto, { aiMode: 'AUTO' });
  const smallTalk = await api.send(alice, auto, 'haha nice');
  expect(await jobFor(smallTalk.id)).toBe(true);

  const off = await api.group(alice, [bob]);
  await updateGroup(api, alice, off, { aiMode: 'OFF' });
  const mention = await api.send(alice, off, '@Sage are you there?');
  expect(await jobFor(mention.id)).toBe(false);
});
