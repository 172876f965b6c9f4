/**
 * Issue 10, item 9, run as `npm start` runs it (the compiled service and CLIs): a port in
 * use is one clear log line and exit code 1, with the embedded PostgreSQL stopped; a
 * development server listens on 127.0.0.1 unless HOST says otherwise; the development
 * signing secrets are the data folder's, so a token from `npm run token` works on the
 * service of that folder and on no other; the old published secrets are gone.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../api/src/db/embedded';
import { ensureBuilt, ROOT } from './../support/build';
import { createDatabase } from '../support/harness';

beforeAll(ensureBuilt, 120_000);

const folders: string[] = [];
/** A fresh data folder under .data/, removed after the tests; EMBEDDED_PG_DIR is its postgres/. */
function dataFolder(): { root: string; pgDir: string } {
  const root = path.join(ROOT, '.data', `test-dev-${randomUUID().slice(0, 8)}`);
  folders.push(root);
  return { root, pgDir: path.join(root, 'postgres') };
}
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `text` appears in the output (rejects if the process exits first). */
  waitFor(text: string): Promise<void>;
}

/** The compiled service with only the given environment (and PATH): development unless told. */
function runService(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/api/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'development', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    output += d;
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = async (text: string) => {
    while (!output.includes(text)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited before "${text}":\n${output}`);
      await Promise.race([new Promise<void>((r) => waiters.push(r)), exited]);
    }
  };
  return { child, output: () => output, exited, waitFor };
}

const kill = (run: Run) => {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
};

/** Resolves true when something accepts TCP connections on host:port. */
const accepts = (port: number, host = '127.0.0.1') =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('a port in use', () => {
  let blocker: net.Server;
  afterAll(() => new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r())));

  it('is one clear log line and exit code 1, and the embedded PostgreSQL is stopped', async () => {
    const port = await freePort();
    blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const { pgDir } = dataFolder();
    const pgPort = await freePort();

    const run = runService({ PORT: String(port), EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort) });
    try {
      await run.waitFor('embedded PostgreSQL started');
      expect(await run.exited).toEqual({ code: 1, signal: null });
    } finally {
      kill(run);
    }
    const lines = run.output().split('\n').filter(Boolean);
    const about = lines.filter((l) => /EADDRINUSE|in use/i.test(l));
    expect(about).toHaveLength(1);
    const line = JSON.parse(about[0]);
    expect(line).toMatchObject({ level: 60, msg: `cannot listen on 127.0.0.1:${port}: the port is already in use (set PORT to a free one, or stop what listens there)` });
    expect(line.err).toBeUndefined();
    // No stack trace anywhere: every line is one of the service's JSON log lines.
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    expect(run.output()).not.toMatch(/\n\s+at /);

    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);
    expect(await accepts(pgPort)).toBe(false);
  });
});

describe('development defaults', () => {
  /** Prints a token as `npm run token` does, for the data folder of `pgDir`. */
  const cliToken = (pgDir: string, sub: string) =>
    execFileSync(process.execPath, [path.join(ROOT, 'dist/api/src/cli/token.js'), '--sub', sub, '--plan', 'plus', '--region', 'DE', '--age', 'adult'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'development', EMBEDDED_PG_DIR: pgDir },
      encoding: 'utf8',
    }).trim();

  it('listen on 127.0.0.1 unless HOST is set, and accept the token CLI\'s tokens of that data folder only', async () => {
    const mine = dataFolder();
    const other = dataFolder();
    const token = cliToken(mine.pgDir, 'alice-dev');
    const stranger = cliToken(other.pgDir, 'alice-dev');
    expect(token).not.toBe(stranger);

    const port = await freePort();
    // DATABASE_URL spares an initdb; the secrets are still the data folder's (beside EMBEDDED_PG_DIR).
    const run = runService({ PORT: String(port), DATABASE_URL: await createDatabase(), EMBEDDED_PG_DIR: mine.pgDir });
    try {
      await run.waitFor('Roundtable is listening');
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (external) expect({ external, accepts: await accepts(port, external) }).toEqual({ external, accepts: false });
      expect(await accepts(port, '127.0.0.1')).toBe(true);
      expect(run.output()).toContain('"host":"127.0.0.1"');

      const me = (t: string) =>
        fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
          body: JSON.stringify({ query: '{ me { id } }' }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      const accepted = await me(token);
      expect(accepted.body.errors).toBeUndefined();
      expect(accepted.body.data.me.id).toEqual(expect.any(String));
      const refused = await me(stranger);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      kill(run);
      await run.exited;
    }
  });

  it('no longer publish a signing secret in the repository', () => {
    const published = [
      ['roundtable', 'development', 'secret', 'do', 'not', 'use', 'in', 'production'].join('-'),
      ['roundtable', 'staff', 'development', 'secret', 'not', 'for', 'production'].join('-'),
      ['DEV', 'JWT', 'SECRET'].join('_'),
    ];
    for (const text of published) {
      // git grep exits 1 when nothing matches.
      let found = '';
      try {
        found = execFileSync('git', ['grep', '-n', '-F', text], { cwd: ROOT, encoding: 'utf8' });
      } catch (err) {
        if ((err as { status?: number }).status !== 1) throw err;
      }
      expect({ text, found }).toEqual({ text, found: '' });
    }
  });
});
