/**
 * The compiled service as child processes on one database, for the crash tests of issue 11:
 * started as `npm start` runs it, killed with a real SIGKILL, restarted on the same
 * database. The AI provider is the loopback fake of the test process.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'pg';
import type { App } from '../../api/src/app';
import { freePort } from '../../api/src/db/embedded';
import { FakeOpenAI, FakeOpenAI as FakeOpenAIClass } from '../support/fake-openai';
export { gate } from '../support/fake-openai';
import { ROOT } from '../support/build';
import { TEST_SECRET, TestApi } from '../support/harness';
import { MODELS, updateGroup } from '../ai/ai-support';

/** Short, so that a takeover comes within seconds. */
export const LEASE_MS = 3000;

export interface Service {
  child: ChildProcess;
  api: TestApi;
  output: () => string;
  exited: Promise<unknown>;
  /** SIGKILL, and resolves once the process is gone. */
  kill9(): Promise<void>;
}

export async function startService(fake: FakeOpenAI, databaseUrl: string, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/api/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET: TEST_SECRET,
      STAFF_JWT_SECRET: 'jobs-test-staff-secret-0123456789abcdef',
      MESSAGE_RATE_PER_MINUTE: '100000',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      AI_MAX_RETRIES: '0',
      AI_MODEL_FAST: MODELS.fast,
      AI_MODEL_REASONING: MODELS.reasoning,
      AI_MODEL_TOP: MODELS.top,
      AI_REPLY_LEASE_MS: String(LEASE_MS),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the service did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = new TestApi(null as unknown as App, `http://127.0.0.1:${port}/graphql`, databaseUrl);
  return {
    child,
    api,
    output: () => output,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The test's own connection to the services' database. */
export function database(databaseUrl: string): { query<T = any>(sql: string, params?: unknown[]): Promise<T[]>; end(): Promise<void> } {
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  return {
    query: async (sql, params = []) => (await pool.query(sql, params)).rows,
    end: () => pool.end(),
  };
}

/** Polls `check` until it returns something other than undefined/false. */
export async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A never-resolving `resume` for the fake: the reply stalls until its process dies. */
export const never = new Promise<void>(() => undefined);

export interface AiRow {
  id: string;
  seq: number;
  body: string;
  status: string;
  statusReason: string | null;
}

/** The group's AI messages, in seq order. */
export async function aiRows(db: ReturnType<typeof database>, groupId: string): Promise<AiRow[]> {
  return db.query(`SELECT id, seq::int AS seq, body, status, status_reason AS "statusReason" FROM messages WHERE group_id = $1 AND kind = 'AI' ORDER BY seq`, [groupId]);
}

/**
 * The fixture of a crash test file: the loopback fake for the whole file, and services that
 * are SIGKILLed after each test. `stalledMention` makes a group in MENTIONS mode on a service
 * and sends a mention whose reply the fake stalls mid-stream (the test enqueues that reply).
 */
export function crashFixture() {
  let fake: FakeOpenAI | undefined;
  const running: Service[] = [];
  beforeAll(async () => {
    fake = await FakeOpenAIClass.start();
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.kill9();
    fake?.reset();
  });
  afterAll(async () => {
    await fake?.stop();
  });
  const fixture = {
    get fake(): FakeOpenAI {
      if (!fake) throw new Error('the fake starts in beforeAll');
      return fake;
    },
    async start(databaseUrl: string, env: Record<string, string> = {}): Promise<Service> {
      const s = await startService(fixture.fake, databaseUrl, env);
      running.push(s);
      return s;
    },
    async stalledMention(svc: Service) {
      const [alice, bob] = await svc.api.users(2);
      const groupId = await svc.api.group(alice, [bob]);
      await updateGroup(svc.api, alice, groupId, { aiMode: 'MENTIONS' });
      const trigger = await svc.api.send(alice, groupId, '@AI tell me about the Douro valley?');
      const [request] = await fixture.fake.waitForChatRequests(1, 30_000);
      await until(async () => request.stalled === true, 'the first reply to stall mid-stream');
      return { alice, groupId, trigger };
    },
  };
  return fixture;
}
