/**
 * Moderation after delivery is durable (issue 11, item 5): a human message that was
 * committed but not yet moderated when its process died is moderated after the restart.
 * The compiled service runs as a child process with the provider's moderation endpoint
 * (the loopback fake), which holds the first scoring open until the process is SIGKILLed.
 */
import { createDatabase } from '../support/harness';
import { ensureBuilt } from '../support/build';
import { MODERATION_KEYS } from '../support/fake-openai';
import { updateGroup } from '../ai/ai-support';
import { crashFixture, database, gate, until } from './crash-support';

jest.setTimeout(120_000);
beforeAll(ensureBuilt, 180_000);

const crash = crashFixture();
const MODERATED = { OPENAI_MODERATION: 'true' };
const clean = { flagged: false, category_scores: Object.fromEntries(MODERATION_KEYS.map((k) => [k, 0.01])) };
const violent = { flagged: true, category_scores: { violence: 0.97, 'violence/graphic': 0.9 } };
const THREAT = 'I will hurt you tomorrow, watch out';

async function autoFlags(db: ReturnType<typeof database>, messageId: string) {
  return db.query(`SELECT source, categories FROM safety_cases WHERE message_id = $1`, [messageId]);
}

/**
 * A service whose moderation endpoint holds the threat's scoring until `held` opens, and a
 * threat sent in a group with the AI off (no job is enqueued for it: only the moderation
 * after delivery runs); resolves once its scoring is under way.
 */
async function threatUnderModeration(databaseUrl: string, held: ReturnType<typeof gate>) {
  crash.fake.onModeration(async (input) => {
    if (!input.includes(THREAT)) return clean;
    await held.promise;
    return violent;
  });
  const first = await crash.start(databaseUrl, MODERATED);
  const [alice, bob] = await first.api.users(2);
  const groupId = await first.api.group(alice, [bob]);
  await updateGroup(first.api, alice, groupId, { aiMode: 'OFF' });
  const sent = await first.api.send(alice, groupId, THREAT);
  await until(async () => crash.fake.moderationRequests().some((r) => JSON.stringify(r.body).includes(THREAT)), 'the message to be under moderation');
  return { first, sent };
}

it('a message whose process was killed before it was moderated is moderated after the restart', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    const { first, sent } = await threatUnderModeration(databaseUrl, gate()); // never opened: the first process dies while its scoring is open
    expect(await db.query(`SELECT message_id AS id FROM moderation_pending`)).toEqual([{ id: sent.id }]);

    await first.kill9();
    expect(await autoFlags(db, sent.id)).toEqual([]);
    crash.fake.onModeration((input) => (input.includes(THREAT) ? violent : clean));
    await crash.start(databaseUrl, MODERATED);

    const cases = await until(async () => {
      const rows = await autoFlags(db, sent.id);
      return rows.length > 0 && rows;
    }, 'the message to be moderated after the restart');
    expect(cases).toEqual([{ source: 'AUTO_FLAG', categories: expect.arrayContaining(['violence']) }]);
    await until(async () => (await db.query(`SELECT 1 FROM moderation_pending`)).length === 0, 'the pending row to be settled');
  } finally {
    await db.end();
  }
});

it('two processes settling the same pending message open one case', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    const held = gate();
    const { sent } = await threatUnderModeration(databaseUrl, held);
    // A second process's sweep takes the row too, once it is older than the lease; both scorings then answer at once.
    await crash.start(databaseUrl, MODERATED);
    await until(async () => crash.fake.moderationRequests().filter((r) => JSON.stringify(r.body).includes(THREAT)).length >= 2, 'the second scoring', 60_000);
    held.open();

    await until(async () => (await db.query(`SELECT 1 FROM moderation_pending`)).length === 0, 'the pending row to be settled');
    expect(await autoFlags(db, sent.id)).toEqual([{ source: 'AUTO_FLAG', categories: expect.arrayContaining(['violence']) }]);
  } finally {
    await db.end();
  }
});
