/**
 * Applies pending migrations: `npm run migration:run`. Uses DATABASE_URL, or the embedded
 * PostgreSQL (the running one, or started for this command).
 */
import { ConfigError, loadConfig } from '../config/env';
import { withCliDatabase } from '../db/cli-database';
import { createLogger } from '../ops/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'info');
  await withCliDatabase(config, log, async (db) => {
    const [row]: Array<{ count: number }> = await db.query(`SELECT count(*)::int AS count FROM schema_migrations`);
    console.log(`database is up to date (${row.count} migrations applied)`);
  });
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
