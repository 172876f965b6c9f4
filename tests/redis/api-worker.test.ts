/**
 * Roles (issue 11, item 4): a ROLE=api process (HTTP and WebSockets, no jobs) and a
 * ROLE=worker process (jobs only, no listener), both the compiled service, on one database
 * and the machine's Redis. A mention sent to the api is answered by the worker, and the
 * reply's AI_DELTA and AI_COMPLETED events reach a subscriber connected to the api.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import { FakeOpenAI } from '../support/fake-openai';
import { createDatabase } from '../support/harness';
import { ensureBuilt, ROOT } from '../support/build';
import { freePort } from '../../api/src/db/embedded';
import { AI_EVENTS, MODELS, quotaOf, updateGroup } from '../ai/ai-support';
import { TEST_SECRET } from '../support/harness';
import { database, LEASE_MS, Service, startService, until } from '../jobs/crash-support';
import { describeWithRedis, redisUrl, untilChannelSubscribers } from './support';

jest.setTimeout(120_000);

/** A ROLE=worker child: it has no HTTP listener, so it is ready once it logs that it runs. */
async function startWorker(fake: FakeOpenAI, databaseUrl: string): Promise<{ child: ChildProcess; output: () => string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/api/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ROLE: 'worker',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl(),
      JWT_SECRET: TEST_SECRET,
      STAFF_JWT_SECRET: 'jobs-test-staff-secret-0123456789abcdef',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      AI_MAX_RETRIES: '0',
      AI_MODEL_FAST: MODELS.fast,
      AI_MODEL_REASONING: MODELS.reasoning,
      AI_MODEL_TOP: MODELS.top,
      AI_REPLY_LEASE_MS: String(LEASE_MS),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`the worker exited:\n${output}`);
    return output.includes('Roundtable worker is running');
  }, 'the worker to start', 60_000);
  return { child, output: () => output, exited };
}

describeWithRedis('ROLE=api and ROLE=worker on one database and Redis', () => {
  let fake: FakeOpenAI;
  let redis: Redis;
  let api: Service | null = null;
  let worker: Awaited<ReturnType<typeof startWorker>> | null = null;

  beforeAll(ensureBuilt, 180_000);
  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await api?.kill9();
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await redis?.quit();
    await fake?.stop();
  });

  it('a mention sent to the api is answered by the worker, and its deltas reach a subscriber on the api', async () => {
    const databaseUrl = await createDatabase();
    const db = database(databaseUrl);
    try {
      api = await startService(fake, databaseUrl, { ROLE: 'api', REDIS_URL: redisUrl() });
      const [{ id: apiId }] = await db.query(`SELECT id FROM service_instances`);
      worker = await startWorker(fake, databaseUrl);
      const [{ id: workerId }] = await db.query(`SELECT id FROM service_instances WHERE id <> $1`, [apiId]);

      const [alice, bob] = await api.api.users(2);
      const groupId = await api.api.group(alice, [bob]);
      await updateGroup(api.api, alice, groupId, { aiMode: 'MENTIONS' });
      const [{ lastSeq }] = await db.query(`SELECT last_seq::int AS "lastSeq" FROM groups WHERE id = $1`, [groupId]);
      const sub = api.api.subscribe(bob.token, groupId, lastSeq - 1, AI_EVENTS);
      await sub.until((e) => e.some((x) => x.seq === lastSeq));
      // The api listens on the group's channel: events the worker publishes reach it.
      await untilChannelSubscribers(redis, groupId, 1);

      const chunks = ['The api ', 'took it, ', 'the worker ', 'answered.'];
      fake.enqueue({ chunks });
      await api.api.send(alice, groupId, '@AI who answers here?');
      const events = await sub.until((e) => e.some((x) => x.type === 'AI_COMPLETED'), 30_000);

      const done = events.find((e) => e.type === 'AI_COMPLETED');
      expect(done.message).toMatchObject({ kind: 'AI', status: 'COMPLETED', body: chunks.join('') });
      const deltas = events.filter((e) => e.type === 'AI_DELTA').map((e) => e.delta);
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.every((d) => d.messageId === done.message.id)).toBe(true);
      expect(deltas.map((d) => d.text).join('')).toBe(chunks.join(''));

      const [response] = await db.query(`SELECT lease_owner AS owner, status FROM model_responses WHERE message_id = $1`, [done.message.id]);
      expect(response).toEqual({ owner: workerId, status: 'COMPLETED' });
      expect(workerId).not.toBe(apiId);
      expect(fake.chatRequests()).toHaveLength(1);
      expect((await quotaOf(api.api, alice)).used).toBe(1);
    } finally {
      await db.end();
    }
  });
});
