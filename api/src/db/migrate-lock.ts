/**
 * Migrations under a PostgreSQL advisory lock, so that several instances starting
 * together on one database migrate once: the first to take the lock migrates, the
 * others wait for it, then find nothing left to do. Without it, two processes on an
 * empty database both created the migrations table and ran the first migration, and
 * one of them failed to start.
 */
import { Client } from 'pg';
import type { DataSource, Migration } from 'typeorm';

/** The lock's key: fixed, so that every instance and CLI of any version takes the same one. */
export const MIGRATION_LOCK_KEY = 7_247_001_011;

/**
 * Runs the pending migrations of `db` while holding the lock on a connection of its own
 * (not one of the pool's, which the migrations use). The lock is released when they are
 * done or have failed, and by PostgreSQL if this process dies holding it.
 */
export async function runMigrationsLocked(db: DataSource, databaseUrl: string): Promise<Migration[]> {
  const lock = new Client({ connectionString: databaseUrl, application_name: 'roundtable-migrate-lock' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await db.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.end();
  }
}
