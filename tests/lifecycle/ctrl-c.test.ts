/**
 * Issue 11, item 3: Ctrl-C in a terminal sends SIGINT to the whole foreground process
 * group. The service with its embedded PostgreSQL (no DATABASE_URL) is started as the
 * leader of a group of its own, as a shell starts `npm start`, and the group gets SIGINT
 * while a burst of requests is under way: the requests complete without errors (the
 * database was not stopped under them), the service logs "stopped", exits 0, and the
 * PostgreSQL it started is stopped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../../api/src/app';
import { freePort } from '../../api/src/db/embedded';
import { ensureBuilt, ROOT } from '../support/build';
import { TestApi } from '../support/harness';
import { startService, untilReady } from './service';

beforeAll(ensureBuilt, 120_000);

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;

/** Whether a process with this pid exists. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

it('SIGINT to the process group drains the service before its embedded PostgreSQL stops', async () => {
  // Under the repository (as .data/ is), not os.tmpdir(): run as root, PostgreSQL runs as
  // the postgres user, who must be able to reach the folder.
  const root = path.join(ROOT, '.data', `test-ctrl-c-${randomUUID().slice(0, 8)}`);
  const pgDir = path.join(root, 'postgres');
  const port = await freePort();
  const svc = startService(
    {
      NODE_ENV: 'development',
      PORT: String(port),
      EMBEDDED_PG_DIR: pgDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      // The burst below is 60 sends from one user: all of them are admitted.
      MAX_OPERATIONS_QUEUED_PER_USER: '100',
    },
    { detached: true },
  );
  let postmasterPid: number | null = null;
  try {
    await untilReady(svc, `http://127.0.0.1:${port}/readyz`, 120_000);
    postmasterPid = Number(readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const api = new TestApi(null as unknown as App, `http://127.0.0.1:${port}/graphql`, '');
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const sub = api.subscribe(bob.token, groupId, 0);
    await api.send(alice, groupId, 'before Ctrl-C');
    await sub.until((events) => events.some((e) => e.type === 'MESSAGE_CREATED'));

    let done = 0;
    const sends = Array.from({ length: 60 }, (_, i) =>
      api
        .gql(alice.token, SEND, { i: { groupId, body: `message ${i}`, clientMessageId: `burst-${i}` } })
        .then((r) => ({ ok: true as const, r }), (err: Error) => ({ ok: false as const, err }))
        .finally(() => done++),
    );
    while (done < 3) await new Promise((r) => setTimeout(r, 1));
    // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
    process.kill(-svc.child.pid!, 'SIGINT');
    const results = await Promise.all(sends);

    // Each request either completed normally or was not taken any more (connection refused
    // or closed); none was accepted and then failed because the database went away.
    const failedInside = results.filter((x) => x.ok && (x.r.errors?.length ?? 0) > 0);
    expect(failedInside.map((x) => x.ok && x.r.errors)).toEqual([]);
    expect(results.filter((x) => x.ok).length).toBeGreaterThan(3);

    await sub.untilDone(10_000);
    expect(await svc.exited).toEqual({ code: 0, signal: null });
    expect(svc.output()).toContain('"msg":"stopped"');
    expect(svc.lines().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    // The embedded PostgreSQL was stopped (by the service, last), not left running.
    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);
    expect(alive(postmasterPid)).toBe(false);
  } finally {
    svc.kill();
    if (postmasterPid !== null && alive(postmasterPid)) process.kill(postmasterPid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}, 180_000);
