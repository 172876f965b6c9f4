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
import type { FakeOpenAI } from '../support/fake-openai';
import { ROOT } from '../support/build';
import { TEST_SECRET, TestApi } from '../support/harness';
import { MODELS } from '../ai/ai-support';

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

export function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
