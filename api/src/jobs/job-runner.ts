/**
 * The durable job queue (issue 11): graphile-worker on the service's own PostgreSQL, with
 * a small connection pool of its own for its LISTEN and its job fetches, so that neither
 * the queue nor a burst of requests can take the other's connections (the tasks run their
 * queries on the service's pool). Jobs are enqueued by the statements that cause them (see
 * send-statement.ts: the message and its `ai.respond` job commit together), picked up
 * through LISTEN/NOTIFY, with a short poll as the fallback. They run at least once: each
 * task is idempotent by the event it belongs to.
 */
import { EventEmitter } from 'node:events';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Logger as PinoLogger } from 'pino';
import { MIGRATION_LOCK_KEY } from '../db/migrate-lock';
import { CronItem, Logger, parseCronItems, run, runMigrations, Runner, TaskList, WorkerEvents } from 'graphile-worker';

/** Picked up by NOTIFY at once; the poll only catches what a lost notification left (and retries). */
const POLL_INTERVAL_MS = 500;
/** Jobs the pool fetches (and locks) at once, served to its workers as they free up. */
const LOCAL_QUEUE_SIZE = 4;

/** The pg pool under the TypeORM data source: graphile-worker shares it. */
export function poolOf(db: DataSource): Pool {
  return (db.driver as PostgresDriver).master as Pool;
}

/** graphile-worker's log lines through the service's logger (its per-job info lines at debug). */
function workerLogger(log: PinoLogger): Logger {
  return new Logger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...(meta ?? {}) };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else log.debug(fields, message);
  });
}

/** Creates or updates the queue's own schema (`graphile_worker`); every role needs it, since sends enqueue. */
export async function installQueue(db: DataSource, log: PinoLogger): Promise<void> {
  // An idle client's error (a restarted server) is logged, not thrown: graphile-worker asks for both handlers.
  const pool = poolOf(db);
  if (pool.listenerCount('error') === 0) pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  if (pool.listenerCount('connect') === 0) pool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'database connection failed')));
  // Under the migrations' advisory lock, so instances starting together install it once.
  const lock = await pool.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await runMigrations({ pgPool: pool, logger: workerLogger(log) });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    lock.release();
  }
}

export class JobRunner {
  /**
   * The ids this process's jobs are locked under, unlocked by others when it dies: the worker
   * pool's (graphile-worker 0.17 fetches, and so locks, every job under the pool's id) and,
   * for a worker that locks by its own id, each worker's.
   */
  readonly workerIds = new Set<string>();
  private runner: Runner | null = null;
  private pool: Pool | null = null;
  private running = 0;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    private readonly databaseUrl: string,
    private readonly concurrency: number,
    private readonly log: PinoLogger,
  ) {}

  /**
   * Runs `tasks`, and schedules `cron` (periodic tasks): graphile-worker records each item's
   * last run in its schema, so every instance may schedule it and each slot gets one job.
   */
  async start(tasks: TaskList, cron: CronItem[] = []): Promise<void> {
    const events: WorkerEvents = new EventEmitter() as WorkerEvents;
    events.on('pool:create', ({ workerPool }) => this.workerIds.add(workerPool.id));
    events.on('worker:create', ({ worker }) => this.workerIds.add(worker.workerId));
    const counted: TaskList = {};
    for (const [name, task] of Object.entries(tasks)) {
      counted[name] = async (payload, helpers) => {
        this.running++;
        try {
          return await task!(payload, helpers);
        } finally {
          this.running--;
        }
      };
    }
    // The LISTEN connection, plus enough for the workers' fetches and completions, which are short.
    this.pool = new Pool({ connectionString: this.databaseUrl, max: Math.min(this.concurrency, 8) + 1, application_name: 'roundtable-jobs' });
    this.pool.on('error', (err) => this.log.warn({ err }, 'idle job queue connection failed'));
    this.pool.on('connect', (client) => client.on('error', (err) => this.log.warn({ err }, 'job queue connection failed')));
    this.runner = await run({
      pgPool: this.pool,
      concurrency: this.concurrency,
      pollInterval: POLL_INTERVAL_MS,
      // Jobs are fetched by the pool, a few at a time, rather than by each worker: without
      // it every one of the JOBS_CONCURRENCY workers polls on its own (20 workers, 40 empty
      // fetches a second in an idle process: two thirds of its CPU at rest).
      preset: { worker: { localQueue: { size: LOCAL_QUEUE_SIZE } } },
      noHandleSignals: true,
      taskList: counted,
      // Given, even when empty: otherwise graphile-worker reads a `crontab` file from the working directory.
      parsedCronItems: parseCronItems(cron),
      events,
      logger: workerLogger(this.log),
    });
  }

  /**
   * Resolves once no job this queue runs is waiting for its first run or running (tests,
   * shutdown); a job waiting for a retry does not count. Right away once stopped.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.stopped || !this.runner) return;
      const [row]: Array<{ n: number }> = await this.db.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NOT NULL OR attempts = 0`);
      if (row.n === 0 && this.running === 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Jobs running now. */
  get runningCount(): number {
    return this.running;
  }

  /** Takes no more jobs and waits for those running. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.runner?.stop();
    await this.pool?.end();
  }
}
