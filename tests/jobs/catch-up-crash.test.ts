/**
 * A catch-up survives its process (issue 12, item 1, on the durable jobs of issue 11): it
 * is an `ai.catch-up` job stored with the request, so a crash before it ran, or while it
 * streamed, still ends in one summary for the viewer, charged once.
 */
import { createDatabase } from '../support/harness';
import { ensureBuilt } from '../support/build';
import { quotaOf, updateGroup } from '../ai/ai-support';
import { crashFixture, database, never, until, Service } from './crash-support';

jest.setTimeout(120_000);
beforeAll(ensureBuilt, 180_000);

const crash = crashFixture();
const CATCH_UP = `mutation($g: ID!) { catchUp(groupId: $g) { id status } }`;

async function unreadGroup(svc: Service) {
  const [alice, bob] = await svc.api.users(2);
  const groupId = await svc.api.group(alice, [bob]);
  await updateGroup(svc.api, alice, groupId, { aiMode: 'MENTIONS' });
  await svc.api.send(bob, groupId, 'The ferry leaves at 8, do not be late');
  return { alice, groupId };
}

async function ended(db: ReturnType<typeof database>, id: string) {
  return until(async () => {
    const [row] = await db.query(`SELECT status, body FROM catch_ups WHERE id = $1`, [id]);
    return row && row.status !== 'PENDING' && row.status !== 'STREAMING' && row;
  }, 'the catch-up to end');
}

it('a catch-up asked of a process that died before running it still comes after the restart', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.onChat(() => ({ text: 'The ferry leaves at 8.' }));
    const apiOnly = await crash.start(databaseUrl, { ROLE: 'api' });
    const { alice, groupId } = await unreadGroup(apiOnly);
    const { catchUp } = await apiOnly.api.ok(alice.token, CATCH_UP, { g: groupId });
    await apiOnly.kill9();
    expect(crash.fake.chatRequests()).toHaveLength(0);

    const restarted = await crash.start(databaseUrl);
    expect(await ended(db, catchUp.id)).toEqual({ status: 'COMPLETED', body: 'The ferry leaves at 8.' });
    expect((await quotaOf(restarted.api, alice)).used).toBe(1);
  } finally {
    await db.end();
  }
});

it('kill -9 while a catch-up streams: after the restart it is done once, and one unit is charged', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['The ferry ', 'leaves ', 'at 8.'], stallAfterChunks: 1, resume: never }, { text: 'The ferry leaves at 8, be on time.' });
    const first = await crash.start(databaseUrl);
    const { alice, groupId } = await unreadGroup(first);
    const { catchUp } = await first.api.ok(alice.token, CATCH_UP, { g: groupId });
    const [request] = await crash.fake.waitForChatRequests(1, 30_000);
    await until(async () => request.stalled === true, 'the catch-up to stall mid-stream');
    await first.kill9();

    const second = await crash.start(databaseUrl);
    // Its job was locked by the dead process: it runs again once the lease has expired, not hours later.
    const result = await ended(db, catchUp.id);
    expect(result).toEqual({ status: 'COMPLETED', body: 'The ferry leaves at 8, be on time.' });
    const responses = await db.query(`SELECT status, charged FROM model_responses WHERE charged_user_id = $1 ORDER BY created_at`, [alice.id]);
    expect(responses).toEqual([
      { status: 'FAILED', charged: false },
      { status: 'COMPLETED', charged: true },
    ]);
    expect((await quotaOf(second.api, alice)).used).toBe(1);
  } finally {
    await db.end();
  }
});
