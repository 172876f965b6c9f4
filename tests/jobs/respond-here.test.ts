/**
 * The `ai.respond` job of a message stored by a process that runs jobs is run by that
 * process at once (ai/respond-here.processor.ts), not fetched by a worker: the job is
 * committed with the message, due only one reply lease later, and completed once the reply
 * is reserved. These tests check that path through the real server, and that nothing is
 * lost when it cannot finish: a crash before the reply starts, a failure, a full process.
 */
import { Client } from 'pg';
import { RespondHere } from '../../api/src/ai/respond-here.processor';
import type { DomainEventOf } from '../../api/src/processors/domain-events';
import { createDatabase, TestApi } from '../support/harness';
import { aiFixture, history, quotaOf, tableCount, updateGroup } from '../ai/ai-support';
import { aiRows, crashFixture, database, gate, LEASE_MS, until } from './crash-support';

const jobWaits = async (api: TestApi) => {
  const values = (await api.app.services.metrics.aiJobWait.get()).values.filter((v) => v.metricName?.endsWith('_count'));
  const count = (path: string) => values.find((v) => v.labels.path === path)?.value ?? 0;
  return { here: count('here'), queue: count('queue') };
};

describe('in one process', () => {
  const ai = aiFixture({ AI_REPLY_LEASE_MS: '30000', JOBS_CONCURRENCY: '1' });

  it('a mention is answered by the process that stored it: its job is due only after the lease, and gone once the reply is reserved', async () => {
    const { api, fake } = ai;
    const stall = gate();
    fake.onChat(() => ({ chunks: ['Meet ', 'at seven.'], stallAfterChunks: 1, resume: stall.promise }));
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    await updateGroup(api, alice, groupId, { aiMode: 'MENTIONS' });
    const before = await jobWaits(api);
    const trigger = await api.send(alice, groupId, '@AI when do we meet?');
    const [request] = await fake.waitForChatRequests(1, 30_000);
    await until(async () => request.stalled === true, 'the reply to stream');
    // Streaming: the reply exists, so its job was completed; it was never fetched by a worker.
    expect(await tableCount(api, `SELECT 1 FROM graphile_worker.jobs WHERE key = $1`, [`ai.respond:${trigger.id}`])).toBe(0);
    expect(await jobWaits(api)).toEqual({ here: before.here + 1, queue: before.queue });
    stall.open();
    await api.app.services.background.idle();
    const replies = (await history(api, alice, groupId)).filter((m) => m.kind === 'AI');
    expect(replies.map((m) => [m.status, m.body])).toEqual([['COMPLETED', 'Meet at seven.']]);
    expect((await quotaOf(api, alice)).used).toBe(1);
  });

  it('with JOBS_CONCURRENCY replies already running here, the next job goes to the queue at once and is answered from there', async () => {
    const { api, fake } = ai;
    const stall = gate();
    fake.onChat((body) => (/first/.test(JSON.stringify(body)) ? { chunks: ['One ', 'reply.'], stallAfterChunks: 1, resume: stall.promise } : { text: 'Another reply.' }));
    const [alice, bob] = await api.users(2);
    const first = await api.group(alice, [bob]);
    const second = await api.group(bob, [alice]);
    await updateGroup(api, alice, first, { aiMode: 'MENTIONS' });
    await updateGroup(api, bob, second, { aiMode: 'MENTIONS' });
    const before = await jobWaits(api);
    await api.send(alice, first, '@AI the first question?');
    const [request] = await fake.waitForChatRequests(1, 30_000);
    await until(async () => request.stalled === true, 'the first reply to stream');
    // JOBS_CONCURRENCY=1 and one reply runs here: the second is the queue's, due now.
    await api.send(bob, second, '@AI the second question?');
    await until(async () => (await history(api, bob, second)).find((m) => m.kind === 'AI' && m.status === 'COMPLETED'), 'the queued reply');
    expect(await jobWaits(api)).toEqual({ here: before.here + 1, queue: before.queue + 1 });
    stall.open();
    await api.app.services.background.idle();
    expect((await history(api, alice, first)).filter((m) => m.kind === 'AI').map((m) => m.status)).toEqual(['COMPLETED']);
    expect((await quotaOf(api, alice)).used).toBe(1);
    expect((await quotaOf(api, bob)).used).toBe(1);
  });
});

describe('the job, whatever the reply does', () => {
  // A process that runs no jobs: nothing but the test touches the jobs these tests make.
  const ai = aiFixture({ ROLE: 'api' });

  const event = (messageId: string, jobId: string) =>
    ({ name: 'messages.created', message: { id: messageId }, aiJobHere: { id: jobId, committedAt: 0 } }) as unknown as DomainEventOf<'messages.created'>;
  /** A delayed ai.respond job, as the send statement enqueues it here; its id and whether it is due now. */
  const delayedJob = async () => {
    const messageId = (await ai.api.query<{ id: string }>(`SELECT gen_random_uuid()::text AS id`))[0].id;
    const [job] = await ai.api.query<{ id: string }>(
      `SELECT (graphile_worker.add_job('ai.respond', json_build_object('messageId', $1::uuid), max_attempts => 5, run_at => now() + interval '1 hour',
                                       job_key => 'ai.respond:' || $1, job_key_mode => 'unsafe_dedupe')).id::text AS id`,
      [messageId],
    );
    const state = async () => (await ai.api.query<{ due: boolean }>(`SELECT run_at <= now() AS due FROM graphile_worker.jobs WHERE id = $1`, [job.id]))[0] ?? 'gone';
    return { messageId, jobId: job.id, state };
  };
  // Not the running service's: these jobs must stay where the test leaves them.
  const processor = (respondTo: (id: string, hooks: { reserved?(): void }) => Promise<null>) =>
    new RespondHere(ai.api.app.services.db, { respondTo }, ai.api.app.services.metrics, ai.api.app.services.log, 5);

  it('a reply that fails before it is reserved leaves its job due at once, for the workers to retry', async () => {
    const { api } = ai;
    const { messageId, jobId, state } = await delayedJob();
    await processor(async () => Promise.reject(new Error('the database went away'))).perform(event(messageId, jobId));
    expect(await state()).toEqual({ due: true });
    await api.query(`SELECT graphile_worker.complete_jobs(ARRAY[$1::bigint])`, [jobId]);
  });

  it('a reply that fails after it is reserved, or one that ends, completes its job', async () => {
    for (const respondTo of [
      async (_: string, hooks: { reserved?(): void }) => {
        hooks.reserved?.();
        throw new Error('the stream broke');
      },
      async () => null,
    ]) {
      const { messageId, jobId, state } = await delayedJob();
      await processor(respondTo).perform(event(messageId, jobId));
      expect(await state()).toBe('gone');
    }
  });

  it('once stopped (shutdown), a job is left due at once for another instance, not run here', async () => {
    const { api } = ai;
    const { messageId, jobId, state } = await delayedJob();
    const ran: string[] = [];
    const here = processor(async (id) => {
      ran.push(id);
      return null;
    });
    here.stop();
    await here.perform(event(messageId, jobId));
    expect(ran).toEqual([]);
    expect(await state()).toEqual({ due: true });
    await api.query(`SELECT graphile_worker.complete_jobs(ARRAY[$1::bigint])`, [jobId]);
  });
});

describe('across a crash', () => {
  const crash = crashFixture();

  it('a process that dies after storing a mention, before its reply starts: the job comes due after the lease and the restarted process answers, one unit charged', async () => {
    const databaseUrl = await createDatabase();
    const db = database(databaseUrl);
    const blocker = new Client({ connectionString: databaseUrl });
    await blocker.connect();
    try {
      crash.fake.onChat(() => ({ text: 'Here now.' }));
      const first = await crash.start(databaseUrl);
      const [alice, bob] = await first.api.users(2);
      const groupId = await first.api.group(alice, [bob]);
      await updateGroup(first.api, alice, groupId, { aiMode: 'MENTIONS' });
      // The reply's first read takes the rollout rules' version, which the send does not read:
      // with that table locked, the message commits and its reply cannot start.
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE rollout_state IN ACCESS EXCLUSIVE MODE`);
      const trigger = await first.api.send(alice, groupId, '@AI are you there?');
      await until(async () => (await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%rollout_state%'`)).length > 0, 'the reply to wait for its first read');
      const [job] = await db.query(`SELECT run_at > now() AS later, locked_at FROM graphile_worker.jobs WHERE key = $1`, [`ai.respond:${trigger.id}`]);
      expect(job).toEqual({ later: true, locked_at: null });
      await first.kill9();
      await blocker.query('ROLLBACK');
      expect(crash.fake.chatRequests()).toHaveLength(0);

      const restarted = await crash.start(databaseUrl);
      const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply after the restart');
      expect(done).toMatchObject({ body: 'Here now.', status: 'COMPLETED' });
      // Not before the job came due: one lease after the message was stored.
      const [{ waited }] = await db.query(
        `SELECT extract(epoch FROM (r.created_at - m.created_at)) * 1000 AS waited FROM model_responses r JOIN messages m ON m.id = r.trigger_message_id WHERE m.id = $1`,
        [trigger.id],
      );
      expect(Number(waited)).toBeGreaterThanOrEqual(LEASE_MS - 50);
      expect((await quotaOf(restarted.api, alice)).used).toBe(1);
      await until(async () => (await db.query(`SELECT 1 FROM graphile_worker.jobs`)).length === 0, 'the job to be done');
    } finally {
      await blocker.end();
      await db.end();
    }
  });
});
