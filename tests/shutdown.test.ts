/**
 * Shutdown of the compiled service as `npm start` runs it, in production mode: SIGTERM
 * (or Ctrl-C's SIGINT) lets requests already under way finish, ends subscriptions and
 * exits 0. Apollo Server must not stop itself on the signal before the service drains.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { App } from '../api/src/app';
import { freePort } from '../api/src/db/embedded';
import { ensureBuilt, ROOT } from './support/build';
import { createDatabase, TEST_SECRET, TestApi } from './support/harness';

beforeAll(ensureBuilt, 120_000);

interface Running {
  child: ChildProcess;
  api: TestApi;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startService(): Promise<Running> {
  const port = await freePort();
  const databaseUrl = await createDatabase();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/api/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET: TEST_SECRET,
      STAFF_JWT_SECRET: 'shutdown-test-staff-secret-0123456789abcdef',
      MESSAGE_RATE_PER_MINUTE: '100000',
      // The burst below is 60 sends from one user: all of them must be admitted (none
      // refused by the per-user queue bound) so that the drain is what is under test.
      MAX_OPERATIONS_QUEUED_PER_USER: '100',
      SHUTDOWN_GRACE_MS: '3000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the service did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The harness client only needs the URL here; the service is another process.
  const api = new TestApi(null as unknown as App, `http://127.0.0.1:${port}/graphql`, databaseUrl);
  return { child, api, output: () => output, exited };
}

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;

describe.each(['SIGTERM', 'SIGINT'] as const)('%s in production', (signal) => {
  it('lets requests under way finish without errors, ends subscriptions and exits 0', async () => {
    const svc = await startService();
    try {
      const [alice, bob] = await svc.api.users(2);
      const groupId = await svc.api.group(alice, [bob]);
      const sub = svc.api.subscribe(bob.token, groupId, 0);
      await svc.api.send(alice, groupId, 'before the signal');
      await sub.until((events) => events.some((e) => e.type === 'MESSAGE_CREATED'));

      // A burst of sends; the signal arrives while most are still under way.
      let done = 0;
      const sends = Array.from({ length: 60 }, (_, i) =>
        svc.api
          .gql(alice.token, SEND, { i: { groupId, body: `message ${i}`, clientMessageId: `burst-${i}` } })
          .then((r) => ({ ok: true as const, r }), (err: Error) => ({ ok: false as const, err }))
          .finally(() => done++),
      );
      while (done < 3) await new Promise((r) => setTimeout(r, 1));
      svc.child.kill(signal);
      const results = await Promise.all(sends);

      // A request either completed normally or was not taken any more (its connection was
      // refused or closed): none was accepted and then failed inside the service.
      const failedInside = results.filter((x) => x.ok && (x.r.errors?.length ?? 0) > 0);
      expect(failedInside.map((x) => x.ok && x.r.errors)).toEqual([]);
      expect(results.filter((x) => x.ok).length).toBeGreaterThan(3);

      await sub.untilDone(10_000);
      expect(await svc.exited).toEqual({ code: 0, signal: null });
      expect(svc.output()).toContain('"msg":"stopped"');
      expect(svc.output()).not.toContain('internal error');
    } finally {
      if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
    }
  });
});
