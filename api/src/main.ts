/** Starts Roundtable: config, (embedded) PostgreSQL, the API, and a clean shutdown. */
import { ConfigError, loadConfig } from './config/env';
import { startEmbeddedPostgres } from './db/embedded';
import { createLogger } from './ops/logger';
import { createApp } from './app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  if (config.auth.usingDevSecret) log.warn('using the development JWT secret: set JWT_SECRET or JWT_JWKS_URL for real use');

  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres(config.embeddedPg.dataDir, config.embeddedPg.port, log);
  const app = await createApp(config, config.databaseUrl ?? embedded!.url, log);
  const port = await app.listen(config.port);
  log.info({ port, graphql: `http://localhost:${port}/graphql`, redis: !!config.redisUrl }, 'Roundtable is listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000);
    force.unref();
    try {
      await app.stop();
      await embedded?.stop();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
