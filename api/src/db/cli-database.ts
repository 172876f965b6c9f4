/**
 * The database for a command-line tool (migrate, staff:create), found the way `npm start`
 * finds it: DATABASE_URL when set; otherwise the embedded PostgreSQL — the one a running
 * `npm start` owns (read from its postmaster.pid), or one started for the command and
 * stopped after it. Migrations are applied before the work either way.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/env';
import { createDataSource } from './data-source';
import { embeddedUrl, startEmbeddedPostgres } from './embedded';
import { runMigrationsLocked } from './migrate-lock';

/** The port of a live server on the data directory, or null when none runs there. */
export async function runningEmbeddedPort(dataDir: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(path.resolve(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  // postmaster.pid: line 1 the server's pid, line 4 its port.
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, but owned by another user (the embedded server runs as `postgres` under root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return port;
}

/** Runs `work` against the migrated database and releases what was opened or started for it. */
export async function withCliDatabase<T>(config: Config, log: Logger, work: (db: DataSource) => Promise<T>): Promise<T> {
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!url) {
    const port = await runningEmbeddedPort(config.embeddedPg.dataDir);
    if (port) {
      log.info({ port }, 'using the running embedded PostgreSQL');
      url = embeddedUrl(port);
    } else {
      const embedded = await startEmbeddedPostgres(config.embeddedPg.dataDir, config.embeddedPg.port, log);
      url = embedded.url;
      stopEmbedded = () => embedded.stop();
    }
  }
  const db = createDataSource(url, 2);
  try {
    await db.initialize();
    const applied = await runMigrationsLocked(db, url);
    if (applied.length) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    return await work(db);
  } finally {
    if (db.isInitialized) await db.destroy();
    await stopEmbedded?.();
  }
}
