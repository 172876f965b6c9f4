/**
 * Issue 11, items 2 and 3: `kill -9` of a service on the embedded PostgreSQL, then a
 * restart on the same data folder, as a new user does it. The embedded server runs in a
 * process group of its own (so that Ctrl-C reaches only the service), so it outlives a
 * SIGKILLed service: the next start finds it, stops it with one warn line, and starts as
 * usual with the data kept. A postmaster.pid whose process is gone too (both killed) is
 * replaced by PostgreSQL itself. After SIGTERM no PostgreSQL is left for the folder.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../../api/src/app';
import { freePort } from '../../api/src/db/embedded';
import { ensureBuilt, ROOT } from '../support/build';
import { TestApi, TestUser } from '../support/harness';
import { Service, startService, untilReady } from './service';

beforeAll(ensureBuilt, 120_000);

const MESSAGES = `query($g: ID!) { messages(groupId: $g, first: 100) { edges { node { body } } } }`;
const LEFTOVER = 'stopped the PostgreSQL an earlier run left running on this data directory';

/** Whether the process runs (a zombie waiting for its reaper does not). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

/** Whether the pid exists at all: a zombie not yet reaped (by pid 1, as a killed orphan is) still counts, as it does for PostgreSQL's own lock-file check. */
const exists = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** The pids of the processes whose parent is `pid` (a postmaster's backends and helpers). */
const childrenOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const postmasterPid = (pgDir: string): number => Number(readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

describe('restart after kill -9 on the embedded PostgreSQL', () => {
  let root: string;
  let pgDir: string;
  const started: Service[] = [];
  const pids: number[] = [];

  beforeEach(() => {
    // Under the repository (as .data/ is), not os.tmpdir(): run as root, PostgreSQL runs as
    // the postgres user, who must be able to reach the folder.
    root = path.join(ROOT, '.data', `test-restart-${randomUUID().slice(0, 8)}`);
    pgDir = path.join(root, 'postgres');
  });
  afterEach(() => {
    for (const svc of started.splice(0)) svc.kill();
    for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** The service on the folder, started as a shell starts `npm start` (a group of its own), once ready. */
  async function start(port: number, pgPort: number): Promise<{ svc: Service; api: TestApi; pid: number }> {
    const svc = startService({ NODE_ENV: 'development', PORT: String(port), EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort) }, { detached: true });
    started.push(svc);
    await untilReady(svc, `http://127.0.0.1:${port}/readyz`, 120_000);
    const pid = postmasterPid(pgDir);
    pids.push(pid);
    return { svc, api: new TestApi(null as unknown as App, `http://127.0.0.1:${port}/graphql`, ''), pid };
  }

  async function seed(api: TestApi): Promise<{ alice: TestUser; groupId: string }> {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    await api.send(alice, groupId, 'written before kill -9');
    return { alice, groupId };
  }

  const bodies = async (api: TestApi, alice: TestUser, groupId: string): Promise<string[]> =>
    (await api.ok(alice.token, MESSAGES, { g: groupId })).messages.edges.map((e: any) => e.node.body);

  /** SIGTERM: exits 0 and leaves no PostgreSQL on the folder. */
  async function stopCleanly(svc: Service, pid: number): Promise<void> {
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);
  }

  it('stops the PostgreSQL the killed service left running, with one warn line, and keeps the data', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const first = await start(port, pgPort);
    const { alice, groupId } = await seed(first.api);

    // kill -9 of the service alone: its PostgreSQL, in a group of its own, survives it.
    first.svc.child.kill('SIGKILL');
    expect((await first.svc.exited).signal).toBe('SIGKILL');
    expect(alive(first.pid)).toBe(true);

    const second = await start(port, pgPort);
    expect(second.pid).not.toBe(first.pid);
    expect(alive(first.pid)).toBe(false);
    expect(await bodies(second.api, alice, groupId)).toEqual(['written before kill -9']);
    const warned = second.svc.lines().filter((l) => l.msg === LEFTOVER);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, pid: first.pid });
    expect(second.svc.lines().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);

    await stopCleanly(second.svc, second.pid);
  }, 240_000);

  it('starts over a postmaster.pid whose PostgreSQL was killed too, with no warn line', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const first = await start(port, pgPort);
    const { alice, groupId } = await seed(first.api);

    // Both killed: postmaster.pid stays behind naming a dead process.
    const backends = childrenOf(first.pid);
    first.svc.child.kill('SIGKILL');
    process.kill(first.pid, 'SIGKILL');
    await first.svc.exited;
    await until('the killed PostgreSQL and its backends are gone and reaped', () => !exists(first.pid) && backends.every((p) => !exists(p)), 60_000);
    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(true);

    const second = await start(port, pgPort);
    expect(await bodies(second.api, alice, groupId)).toEqual(['written before kill -9']);
    expect(second.svc.lines().filter((l) => l.msg === LEFTOVER)).toEqual([]);
    expect(second.svc.lines().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);

    await stopCleanly(second.svc, second.pid);
  }, 240_000);
});
