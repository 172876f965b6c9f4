/**
 * Who pays for an AI response (docs/product.md §4): the author of the trigger, only for a
 * response that did not fail at the provider, never beyond the plan's limit even under
 * concurrent triggers; and only that person is told when the quota is used up.
 */
import { Client as PgClient } from 'pg';
import { QuotaService } from '../../api/src/ai/quota.service';
import type { AiConfig } from '../../api/src/config/env';
import { createDataSource } from '../../api/src/db/data-source';
import { FakeOpenAI, gate } from '../support/fake-openai';
import { eventually, TestApi, TestUser } from '../support/harness';
import { aiMessages, ofType, quotaOf, settled, startAiApi, tableCount, untilAiCompleted, untilMessage, watch } from './ai-support';

let fake: FakeOpenAI;
let api: TestApi;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  // Free users get one response an hour; other plans keep their defaults.
  api = await startAiApi(fake, { AI_QUOTA: 'free=1/1h' });
});
afterEach(async () => {
  await settled(api);
  fake.reset();
});
afterAll(async () => {
  await api?.stop();
  await fake?.stop();
});

const usedBy = async (users: TestUser[]): Promise<number[]> => Promise.all(users.map(async (u) => (await quotaOf(api, u)).used));

describe('charging', () => {
  it("charges the author of the trigger and moves nobody else's usage", async () => {
    const [alice, bob, carol] = await api.users(3, { plan: 'plus' });
    const groupId = await api.group(alice, [bob, carol]);
    await api.send(alice, groupId, 'hi all, planning the trip tonight');
    await api.send(carol, groupId, 'sounds good');
    await settled(api);
    expect(await usedBy([alice, bob, carol])).toEqual([0, 0, 0]);

    await api.send(bob, groupId, '@AI which day is best for the Fushimi Inari hike?');
    await settled(api);

    const [reply] = await aiMessages(api, carol, groupId);
    expect(reply).toMatchObject({ status: 'COMPLETED', modelResponse: { charged: true, chargedUser: { id: bob.id } } });
    expect(await usedBy([alice, bob, carol])).toEqual([0, 1, 0]);
    const charged = await api.query(`SELECT charged_user_id AS "userId" FROM model_responses WHERE group_id = $1 AND charged`, [groupId]);
    expect(charged).toEqual([{ userId: bob.id }]);
  });

  it('human messages never touch the quota, also when it is used up', async () => {
    const alice = await api.user({ plan: 'free' });
    const bob = await api.user({ plan: 'plus' });
    const groupId = await api.group(alice, [bob]);
    await api.send(alice, groupId, '@AI how long is the walk to the temple?');
    await settled(api);
    expect((await quotaOf(api, alice)).remaining).toBe(0);

    for (const body of ['ok then', 'see you at 9', 'bring an umbrella']) await api.send(alice, groupId, body);
    await settled(api);

    expect((await quotaOf(api, alice)).used).toBe(1);
    expect(await tableCount(api, `SELECT 1 FROM model_responses WHERE charged_user_id = $1`, [alice.id])).toBe(1);
  });
});

describe('concurrent triggers', () => {
  it('10 parallel mentions with one unit left produce exactly one response and nine quota notices', async () => {
    const author = await api.user({ plan: 'free' });
    const friend = await api.user({ plan: 'plus' });
    const groupId = await api.group(author, [friend]);
    const sub = await watch(api, author, groupId);
    expect((await quotaOf(api, author)).remaining).toBe(1);

    // The test holds the author's row (NO KEY UPDATE lets the messages' foreign keys through),
    // so reservations that lock it queue up in PostgreSQL together and race when it lets go.
    const sends = await whileHoldingUser(author.id, 10, () =>
      Promise.all(Array.from({ length: 10 }, (_, i) => api.send(author, groupId, `@AI quick question ${i + 1}: when does the last train leave?`))),
    );
    expect(new Set(sends.map((s) => s.id)).size).toBe(10);
    await settled(api);

    const replies = await aiMessages(api, friend, groupId);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ status: 'COMPLETED', modelResponse: { charged: true, chargedUser: { id: author.id } } });
    expect(fake.chatRequests()).toHaveLength(1);
    const rows = await api.query(`SELECT charged FROM model_responses WHERE charged_user_id = $1`, [author.id]);
    expect(rows).toEqual([{ charged: true }]);
    const notices = await sub.events.until((e) => e.filter((x) => x.type === 'QUOTA_NOTICE').length >= 9).then((e) => e.filter((x) => x.type === 'QUOTA_NOTICE'));
    expect(notices).toHaveLength(9);
    const answered = sends.filter((s) => !notices.some((n) => n.notice.messageId === s.id));
    expect(answered).toHaveLength(1);
    expect(await quotaOf(api, author)).toMatchObject({ used: 1, remaining: 0 });
    expect(await tableCount(api, `SELECT 1 FROM quota_exhaustions WHERE user_id = $1`, [author.id])).toBe(9);
  });
  it('a failure reported after the reply was settled changes nothing: the answered reply stays charged', async () => {
    const [alice, bob] = await api.users(2, { plan: 'plus' });
    const groupId = await api.group(alice, [bob]);
    await api.send(alice, groupId, '@AI which day is best for the Fushimi Inari hike?');
    await settled(api);
    const [{ id }] = await api.query<{ id: string }>(`SELECT id FROM model_responses WHERE charged_user_id = $1`, [alice.id]);

    // What a takeover, a rerun or an error path calls, arriving late.
    const db = createDataSource(api.databaseUrl, 1);
    await db.initialize();
    try {
      // Releasing reads no quota setting.
      await new QuotaService(db, {} as AiConfig).release(id, 'INTERRUPTED');
    } finally {
      await db.destroy();
    }
    const rows = await api.query(`SELECT status, status_reason AS "statusReason", charged FROM model_responses WHERE id = $1`, [id]);
    expect(rows).toEqual([{ status: 'COMPLETED', statusReason: null, charged: true }]);
    expect((await quotaOf(api, alice)).used).toBe(1);
  });
});

describe('provider failures', () => {
  it('a 500 from the provider charges nothing and ends the AI message FAILED with PROVIDER_ERROR', async () => {
    const [alice, bob] = await api.users(2, { plan: 'plus' });
    const groupId = await api.group(alice, [bob]);
    const sub = await watch(api, bob, groupId);
    fake.enqueue({ status: 500 });

    await api.send(alice, groupId, '@AI what is the fastest way to Nara?');
    await settled(api);

    const [done] = await untilAiCompleted(sub);
    expect(done.message).toMatchObject({ kind: 'AI', status: 'FAILED', statusReason: 'PROVIDER_ERROR', body: '' });
    const [reply] = await aiMessages(api, alice, groupId);
    expect(reply).toMatchObject({ status: 'FAILED', statusReason: 'PROVIDER_ERROR', body: '' });
    expect(reply.modelResponse).toMatchObject({ charged: false, status: 'FAILED', chargedUser: { id: alice.id } });
    expect((await quotaOf(api, alice)).used).toBe(0);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('a connection lost mid-stream charges nothing, even though deltas had gone out', async () => {
    const [alice, bob] = await api.users(2, { plan: 'plus' });
    const groupId = await api.group(alice, [bob]);
    const sub = await watch(api, bob, groupId);
    fake.enqueue({ chunks: ['The fastest ', 'way is ', 'the Kintetsu ', 'line.'], failAfterChunks: 2 });

    await api.send(alice, groupId, '@AI what is the fastest way to Nara?');
    await settled(api);

    const [done] = await untilAiCompleted(sub);
    expect(ofType(sub, 'AI_DELTA').length).toBeGreaterThan(0);
    expect(done.message).toMatchObject({ status: 'FAILED', statusReason: 'PROVIDER_ERROR', body: '' });
    const [reply] = await aiMessages(api, alice, groupId);
    expect(reply.modelResponse).toMatchObject({ charged: false, status: 'FAILED' });
    expect((await quotaOf(api, alice)).used).toBe(0);
  });

  // Stored apart, a process dying between the two would leave a charged response STREAMING
  // behind an ended message: the unit kept, and a takeover ending the reply a second time.
  // (A private reply's message is inserted by a statement that already wrote the response
  // row, so holding that row cannot tell one statement from two there.)
  it('a group reply that fails ends its message and settles its model response in one statement', async () => {
    const [alice, bob] = await api.users(2, { plan: 'plus' });
    const groupId = await api.group(alice, [bob]);
    const resume = gate();
    fake.enqueue({ chunks: ['The fastest ', 'way is ', 'the Kintetsu line.'], stallAfterChunks: 1, resume: resume.promise, failAfterChunks: 1 });
    await api.send(alice, groupId, '@AI what is the fastest way to Nara?');

    const shown = await failWhileResponseHeld(alice.id, resume.open, async () => {
      const [m] = await api.query<{ status: string }>(`SELECT status FROM messages WHERE group_id = $1 AND kind = 'AI'`, [groupId]);
      return m.status;
    });
    expect(shown).toBe('STREAMING');
    await settled(api);
    const [reply] = await aiMessages(api, alice, groupId);
    expect(reply).toMatchObject({ status: 'FAILED', statusReason: 'PROVIDER_ERROR', modelResponse: { charged: false, status: 'FAILED' } });
    expect((await quotaOf(api, alice)).used).toBe(0);
  });

  it('a failed response gives the unit back: a free user with one unit is answered on the next try', async () => {
    const alice = await api.user({ plan: 'free' });
    const groupId = await api.group(alice);
    fake.enqueue({ status: 500 }, { text: 'Take the 7:40 train.' });

    await api.send(alice, groupId, '@AI which train should we take?');
    await settled(api);
    await api.send(alice, groupId, '@AI which train should we take? trying again');
    await settled(api);

    const replies = await aiMessages(api, alice, groupId);
    expect(replies.map((r) => r.status)).toEqual(['FAILED', 'COMPLETED']);
    expect(replies[1].body).toBe('Take the 7:40 train.');
    expect(await quotaOf(api, alice)).toMatchObject({ used: 1, remaining: 0 });
  });
});

describe('quota exhausted', () => {
  it('only the requester is told, with the reset time, and me.quota shows it', async () => {
    const alice = await api.user({ plan: 'free' });
    const bob = await api.user({ plan: 'plus' });
    const groupId = await api.group(alice, [bob]);
    const [aliceSub, bobSub] = await Promise.all([watch(api, alice, groupId), watch(api, bob, groupId)]);

    await api.send(alice, groupId, '@AI when does the museum open?');
    await settled(api);
    await untilAiCompleted(aliceSub);
    const requestsBefore = fake.chatRequests().length;

    const denied = await api.send(alice, groupId, '@AI and when does it close?');
    await settled(api);
    const [notice] = await aliceSub.events
      .until((e) => e.some((x) => x.type === 'QUOTA_NOTICE'))
      .then((e) => e.filter((x) => x.type === 'QUOTA_NOTICE'));
    // A later message both receive: anything meant for bob before it would have arrived by now.
    const later = await api.send(bob, groupId, 'it closes at 5, I checked');
    await Promise.all([untilMessage(aliceSub, later.id), untilMessage(bobSub, later.id)]);

    expect(notice.seq).toBeNull();
    expect(notice.notice).toMatchObject({ code: 'QUOTA_EXCEEDED', messageId: denied.id });
    expect(notice.notice.resetsAt).toEqual(expect.any(String));
    expect(new Date(notice.notice.resetsAt).getTime()).toBeGreaterThan(Date.now());
    expect(ofType(aliceSub, 'QUOTA_NOTICE')).toHaveLength(1);
    expect(ofType(bobSub, 'QUOTA_NOTICE')).toHaveLength(0);
    expect(fake.chatRequests()).toHaveLength(requestsBefore);
    expect(await aiMessages(api, bob, groupId)).toHaveLength(1);

    const quota = await quotaOf(api, alice);
    expect(quota).toMatchObject({ plan: 'free', limit: 1, used: 1, remaining: 0 });
    expect(quota.resetsAt).toBe(notice.notice.resetsAt);
    expect(await quotaOf(api, bob)).toMatchObject({ used: 0, resetsAt: null });
  });
});

/**
 * Holds the one STREAMING model response of `userId` while `fail` lets its stalled provider
 * fail, and returns what `shown` reads of the AI message once the reply's ending waits for
 * that row. The ending must not be visible before its settlement: both are one statement.
 */
async function failWhileResponseHeld(userId: string, fail: () => void, shown: () => Promise<string>): Promise<string> {
  const [request] = await fake.waitForChatRequests(1, 30_000);
  await eventually(() => request.stalled === true, 30_000);
  const holder = new PgClient({ connectionString: api.databaseUrl });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    const { rows } = await holder.query(`SELECT 1 FROM model_responses WHERE charged_user_id = $1 AND status = 'STREAMING' FOR UPDATE`, [userId]);
    expect(rows).toHaveLength(1);
    fail();
    await eventually(async () => {
      const [w] = await api.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%model_responses%'`,
      );
      return w.n >= 1;
    }, 30_000);
    return await shown();
  } finally {
    await holder.query('COMMIT');
    await holder.end();
  }
}

/**
 * Runs `fire` while a separate connection holds `userId`'s row, and lets go once `waiting`
 * statements wait for it, so that the requests really race inside PostgreSQL. Should the
 * reservations not wait for that row at all, it lets go once every AI response has ended.
 */
async function whileHoldingUser<T>(userId: string, waiting: number, fire: () => Promise<T>): Promise<T> {
  const holder = new PgClient({ connectionString: api.databaseUrl });
  const watcher = new PgClient({ connectionString: api.databaseUrl });
  await Promise.all([holder.connect(), watcher.connect()]);
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId]);
    const result = fire();
    const queued = eventually(async () => {
      const { rows } = await watcher.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0].n >= waiting;
    }, 10_000);
    queued.catch(() => undefined);
    await Promise.race([queued, result.then(() => settled(api))]);
    await holder.query('COMMIT');
    return await result;
  } finally {
    await Promise.all([holder.end(), watcher.end()]);
  }
}
