/**
 * `npm run bench:queue`: the two candidate PostgreSQL job queues, graphile-worker and
 * pg-boss, measured on what the durable AI path needs from them.
 *
 * Each round gets a fresh database on the machine PostgreSQL (BENCH_QUEUE_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres, the server the tests use), dropped
 * afterwards. Rounds alternate the queues (graphile-worker, pg-boss with LISTEN/NOTIFY,
 * pg-boss polling only, then again) so a noisy shared machine does not favour one.
 *
 * Per round:
 * 1. trigger -> handler start, light load: a producer commits BEGIN; INSERT a row; enqueue
 *    a job; COMMIT, one job at a time, and waits for the handler to start before the next.
 *    Measured from COMMIT returning to the handler's first line, with the worker in this
 *    process and then in a child process (both stamp performance.timeOrigin + now()).
 * 2. cost per enqueued job: the same transaction with and without the enqueue, one
 *    producer alternating the two (extra ms per transaction), and 8 parallel producers
 *    for a few seconds each (transactions/s), no worker running; and the raw transaction
 *    plus a bare pg_notify, which shows what NOTIFY alone costs at commit.
 * 3. throughput: N jobs inserted in one transaction, a no-op handler at concurrency 4,
 *    from COMMIT to the last job settled in the database (bounded by a time window).
 *
 * Env: BENCH_QUEUE_DATABASE_URL, BENCH_QUEUE_JOBS (latency samples per round, 300),
 * BENCH_QUEUE_POLL_JOBS (samples per round for polling-only pg-boss, 40),
 * BENCH_QUEUE_ROUNDS (2 per queue), BENCH_QUEUE_PRODUCERS (8).
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Logger, run, Runner, runMigrations } from 'graphile-worker';
import type { PgBoss as PgBossClass, Db as IDatabase } from 'pg-boss' with { 'resolution-mode': 'import' };

const BASE_URL = process.env.BENCH_QUEUE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 300);
const POLL_JOBS = Number(process.env.BENCH_QUEUE_POLL_JOBS ?? 40);
const ROUNDS = Number(process.env.BENCH_QUEUE_ROUNDS ?? 2);
const PRODUCERS = Number(process.env.BENCH_QUEUE_PRODUCERS ?? 8);
const WARMUP = 20;
const COST_SEQUENTIAL = 200;
const COST_PARALLEL_MS = 3000;
const THROUGHPUT_JOBS = 2000;
const THROUGHPUT_WINDOW_MS = 15_000;
const CONCURRENCY = 4;
const START_TIMEOUT_MS = 10_000;
const TIME_LIMIT_MS = 600_000;
const QUEUE = 'bench_noop';

const stamp = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'graphile' | 'pgboss-notify' | 'pgboss-poll';
const LABEL: Record<Kind, string> = {
  graphile: 'graphile-worker 0.17.3 (LISTEN/NOTIFY)',
  'pgboss-notify': 'pg-boss 12.38.0 (useListenNotify, poll 0.5 s)',
  'pgboss-poll': 'pg-boss 12.38.0 (polling only, 0.5 s)',
};

interface Payload {
  i: number;
}
type OnStart = (p: Payload) => void;
interface Worker {
  stop(): Promise<void>;
}

/** What the bench needs from a queue: set up its schema, enqueue inside a caller's transaction, run workers. */
interface Queue {
  setup(): Promise<void>;
  /** Enqueues one job on `tx`, a client inside BEGIN. */
  enqueue(tx: Client, p: Payload): Promise<void>;
  enqueueMany(tx: Client, n: number): Promise<void>;
  worker(concurrency: number, onStart: OnStart, variant?: string): Promise<Worker>;
  /** Jobs not yet settled. */
  pending(c: Client): Promise<number>;
  close(): Promise<void>;
}

const silent = new Logger(() => () => undefined);

class GraphileQueue implements Queue {
  constructor(private readonly url: string) {}
  setup() {
    return runMigrations({ connectionString: this.url, logger: silent });
  }
  async enqueue(tx: Client, p: Payload) {
    await tx.query(`SELECT graphile_worker.add_job($1, $2::json)`, [QUEUE, JSON.stringify(p)]);
  }
  async enqueueMany(tx: Client, n: number) {
    await tx.query(`SELECT graphile_worker.add_job($1, json_build_object('i', g)) FROM generate_series(1, $2) g`, [QUEUE, n]);
  }
  /** `batch`: the pool locks 10 jobs at a time (localQueue) and batches completions, graphile-worker's batching. */
  async worker(concurrency: number, onStart: OnStart, variant?: string): Promise<Worker> {
    const runner: Runner = await run({
      connectionString: this.url,
      concurrency,
      maxPoolSize: concurrency + 2,
      noHandleSignals: true,
      logger: silent,
      preset: variant === 'batch' ? { worker: { localQueue: { size: 10 }, completeJobBatchDelay: 0 } } : undefined,
      taskList: { [QUEUE]: async (payload) => onStart(payload as Payload) },
    });
    return { stop: () => runner.stop() };
  }
  async pending(c: Client) {
    const r = await c.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs`);
    return r.rows[0].n as number;
  }
  async close() {}
}

// pg-boss is ESM only; this CommonJS build loads it with a dynamic import.
const loadPgBoss = async (): Promise<typeof PgBossClass> => (await import('pg-boss')).PgBoss;
const onTx = (tx: Client): IDatabase => ({ executeSql: (text, values) => tx.query(text, values as unknown[]) });

class PgBossQueue implements Queue {
  private boss: PgBossClass | null = null;
  constructor(
    private readonly url: string,
    private readonly notify: boolean,
  ) {}
  private async create(): Promise<PgBossClass> {
    const PgBoss = await loadPgBoss();
    const boss = new PgBoss({ connectionString: this.url, useListenNotify: this.notify, schedule: false, max: CONCURRENCY + 4 });
    boss.on('error', (err) => console.error('pg-boss:', err));
    await boss.start();
    return boss;
  }
  async setup() {
    this.boss = await this.create();
    await this.boss.createQueue(QUEUE, { notify: this.notify });
  }
  async enqueue(tx: Client, p: Payload) {
    const id = await this.boss!.send(QUEUE, p, { db: onTx(tx) });
    if (!id) throw new Error('pg-boss send returned no id');
  }
  async enqueueMany(tx: Client, n: number) {
    await this.boss!.insert(QUEUE, Array.from({ length: n }, (_, i) => ({ data: { i: i + 1 } })), { db: onTx(tx) });
  }
  /** A worker on its own PgBoss instance (as another process would have); `batch` fetches 10 at a time. */
  async worker(concurrency: number, onStart: OnStart, variant?: string): Promise<Worker> {
    const boss = await this.create();
    const batchSize = variant === 'batch' ? 10 : 1;
    await boss.work<Payload>(
      QUEUE,
      { localConcurrency: concurrency, batchSize, burstWhenBatchFull: batchSize > 1, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
      async (jobs) => {
        for (const job of jobs) onStart(job.data);
      },
    );
    return { stop: () => boss.stop({ graceful: true, timeout: 10_000 }) };
  }
  async pending(c: Client) {
    const r = await c.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state <> 'completed'`, [QUEUE]);
    return r.rows[0].n as number;
  }
  async close() {
    await this.boss?.stop({ graceful: true, timeout: 10_000 });
  }
}

function makeQueue(kind: Kind, url: string): Queue {
  return kind === 'graphile' ? new GraphileQueue(url) : new PgBossQueue(url, kind === 'pgboss-notify');
}

// ---- child process: a worker that reports each handler start over IPC ----

async function childMain(kind: Kind, url: string) {
  const q = makeQueue(kind, url);
  const w = await q.worker(CONCURRENCY, (p) => process.send!({ t: 'start', i: p.i, at: stamp() }));
  process.on('message', (m: { t: string }) => {
    if (m.t === 'stop') void w.stop().then(() => process.exit(0));
  });
  process.send!({ t: 'ready' });
}

// ---- the parent ----

async function createDatabase(): Promise<string> {
  const name = `rt_bench_queue_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: BASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(url: string) {
  const admin = new Client({ connectionString: BASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  await admin.end();
}

/** Handler starts by job number; `wait(i)` resolves with the start stamp. */
class Starts {
  private readonly seen = new Map<number, number>();
  private readonly waiters = new Map<number, (at: number) => void>();
  count = 0;
  mark = (i: number, at = stamp()) => {
    this.count++;
    if (this.seen.has(i)) return;
    this.seen.set(i, at);
    this.waiters.get(i)?.(at);
  };
  wait(i: number): Promise<number> {
    const at = this.seen.get(i);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${i}: handler did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      this.waiters.set(i, (t) => {
        clearTimeout(timer);
        this.waiters.delete(i);
        resolve(t);
      });
    });
  }
}

const INSERT_ROW = `INSERT INTO bench_event (body) VALUES ($1)`;
const ROW_BODY = 'Message: are we still on for dinner on Friday? I can book the place near the station.';

/** `q` 'notify': the raw transaction plus a bare pg_notify, to tell NOTIFY's commit cost from the queue's own. */
async function transaction(c: Client, q: Queue | null | 'notify', p: Payload): Promise<void> {
  await c.query('BEGIN');
  try {
    await c.query(INSERT_ROW, [ROW_BODY]);
    if (q === 'notify') await c.query(`SELECT pg_notify('bench_queue', $1)`, [String(p.i)]);
    else if (q) await q.enqueue(c, p);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  }
}

let seq = 0;
async function latency(c: Client, q: Queue, starts: Starts, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < WARMUP + n; k++) {
    const i = ++seq;
    await transaction(c, q, { i });
    const committed = stamp();
    const at = await starts.wait(i);
    if (k >= WARMUP) out.push(at - committed);
  }
  return out;
}

async function forkWorker(kind: Kind, url: string, starts: Starts): Promise<ChildProcess> {
  const child = fork(__filename, ['worker', kind, url], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker process did not start')), 30_000);
    child.on('message', (m: { t: string; i: number; at: number }) => {
      if (m.t === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (m.t === 'start') starts.mark(m.i, m.at);
    });
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}`)));
  });
  return child;
}

function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.send({ t: 'stop' });
  });
}

interface Cost {
  rawMs: number[];
  jobMs: number[];
  rawPerSec: number;
  jobPerSec: number;
  notifyPerSec: number;
}

async function cost(clients: Client[], q: Queue): Promise<Cost> {
  const c = clients[0];
  const rawMs: number[] = [];
  const jobMs: number[] = [];
  for (let k = 0; k < WARMUP + COST_SEQUENTIAL; k++) {
    for (const withJob of [false, true]) {
      const t = performance.now();
      await transaction(c, withJob ? q : null, { i: ++seq });
      if (k >= WARMUP) (withJob ? jobMs : rawMs).push(performance.now() - t);
    }
  }
  const parallel = async (withJob: boolean | 'notify') => {
    let done = 0;
    const end = performance.now() + COST_PARALLEL_MS;
    const t = performance.now();
    await Promise.all(
      clients.map(async (cl) => {
        while (performance.now() < end) {
          await transaction(cl, withJob === 'notify' ? 'notify' : withJob ? q : null, { i: ++seq });
          done++;
        }
      }),
    );
    return done / ((performance.now() - t) / 1000);
  };
  // raw, job, raw, job: each figure is the mean of two windows on either side of the other.
  const r1 = await parallel(false);
  const j1 = await parallel(true);
  const r2 = await parallel(false);
  const j2 = await parallel(true);
  const notifyPerSec = await parallel('notify');
  return { rawMs, jobMs, rawPerSec: (r1 + r2) / 2, jobPerSec: (j1 + j2) / 2, notifyPerSec };
}

async function throughput(c: Client, q: Queue, variant?: string): Promise<{ perSec: number; done: number; ms: number }> {
  let handled = 0;
  const w = await q.worker(CONCURRENCY, () => void handled++, variant);
  try {
    await c.query('BEGIN');
    await q.enqueueMany(c, THROUGHPUT_JOBS);
    await c.query('COMMIT');
    const t = performance.now();
    const end = t + THROUGHPUT_WINDOW_MS;
    let left = THROUGHPUT_JOBS;
    while (performance.now() < end) {
      left = await q.pending(c);
      if (left === 0) break;
      await sleep(20);
    }
    const ms = performance.now() - t;
    const done = THROUGHPUT_JOBS - left;
    return { perSec: done / (ms / 1000), done, ms };
  } finally {
    await w.stop();
  }
}

interface RoundResult {
  inProcess: number[];
  crossProcess: number[];
  cost: Cost;
  throughput: Array<{ variant: string; perSec: number; done: number; ms: number }>;
}

async function round(kind: Kind): Promise<RoundResult> {
  const url = await createDatabase();
  const clients: Client[] = [];
  let child: ChildProcess | null = null;
  let q: Queue | null = null;
  try {
    for (let k = 0; k < PRODUCERS; k++) {
      const c = new Client({ connectionString: url });
      await c.connect();
      clients.push(c);
    }
    await clients[0].query(`CREATE TABLE bench_event (id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    q = makeQueue(kind, url);
    await q.setup();
    const n = kind === 'pgboss-poll' ? POLL_JOBS : JOBS;

    const starts = new Starts();
    const w = await q.worker(CONCURRENCY, (p) => starts.mark(p.i));
    const inProcess = await latency(clients[0], q, starts, n).finally(() => w.stop());

    child = await forkWorker(kind, url, starts);
    const crossProcess = await latency(clients[0], q, starts, n);
    await stopWorkerProcess(child);
    child = null;

    const tp = [{ variant: 'batch 1', ...(await throughput(clients[0], q)) }];
    tp.push({ variant: 'batch 10', ...(await throughput(clients[0], q, 'batch')) });

    const c = await cost(clients, q);
    return { inProcess, crossProcess, cost: c, throughput: tp };
  } finally {
    if (child) child.kill('SIGKILL');
    await q?.close().catch((err) => console.error('closing the queue failed:', err));
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await dropDatabase(url).catch((err) => console.error('dropping the database failed:', err));
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s: string, n: number) => s.padStart(n);

async function main() {
  const kinds: Kind[] = ['graphile', 'pgboss-notify', 'pgboss-poll'];
  const results = new Map<Kind, RoundResult[]>(kinds.map((k) => [k, []]));
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const started = Date.now();
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of kinds) {
      process.stderr.write(`round ${r + 1}/${ROUNDS}: ${LABEL[kind]}\n`);
      results.get(kind)!.push(await round(kind));
    }
  }

  console.log(`\nbench:queue  ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load ${load}, node ${process.version}, ${ROUNDS} rounds per queue alternating, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`PostgreSQL: ${new URL(BASE_URL).host}; a fresh database per queue per round; figures in ms unless noted\n`);
  console.log('1. trigger (COMMIT returned) -> handler start, one job at a time');
  console.log(`${'queue'.padEnd(48)}${pad('worker', 10)}${pad('n', 6)}${pad('p50', 9)}${pad('p90', 9)}${pad('p99', 9)}${pad('max', 9)}`);
  for (const kind of kinds) {
    const rs = results.get(kind)!;
    for (const [where, xs] of [
      ['same', rs.flatMap((r) => r.inProcess)],
      ['other', rs.flatMap((r) => r.crossProcess)],
    ] as const) {
      console.log(`${LABEL[kind].padEnd(48)}${pad(where, 10)}${pad(String(xs.length), 6)}${pad(f(pct(xs, 50)), 9)}${pad(f(pct(xs, 90)), 9)}${pad(f(pct(xs, 99)), 9)}${pad(f(Math.max(...xs)), 9)}`);
    }
  }

  console.log(`\n2. cost per enqueued job: BEGIN; INSERT row; [enqueue]; COMMIT`);
  console.log(`${'queue'.padEnd(48)}${pad('raw p50', 9)}${pad('+job p50', 10)}${pad('extra', 8)}${pad('ratio', 8)}${pad(`raw tx/s x${PRODUCERS}`, 14)}${pad(`jobs/s x${PRODUCERS}`, 13)}${pad('ratio', 8)}${pad('raw+NOTIFY tx/s', 17)}`);
  for (const kind of kinds) {
    const rs = results.get(kind)!;
    const notifyS = rs.reduce((a, r) => a + r.cost.notifyPerSec, 0) / rs.length;
    const raw = pct(rs.flatMap((r) => r.cost.rawMs), 50);
    const job = pct(rs.flatMap((r) => r.cost.jobMs), 50);
    const rawS = rs.reduce((a, r) => a + r.cost.rawPerSec, 0) / rs.length;
    const jobS = rs.reduce((a, r) => a + r.cost.jobPerSec, 0) / rs.length;
    console.log(`${LABEL[kind].padEnd(48)}${pad(f(raw), 9)}${pad(f(job), 10)}${pad(f(job - raw), 8)}${pad(f(job / raw) + 'x', 8)}${pad(f(rawS, 0), 14)}${pad(f(jobS, 0), 13)}${pad(f(jobS / rawS) + 'x', 8)}${pad(f(notifyS, 0), 17)}`);
  }

  console.log(`\n3. throughput: ${THROUGHPUT_JOBS} jobs in one transaction, no-op handler, concurrency ${CONCURRENCY}, window ${THROUGHPUT_WINDOW_MS / 1000} s`);
  console.log(`${'queue'.padEnd(48)}${pad('fetch', 10)}${pad('jobs/s', 10)}${pad('done', 12)}   jobs/s per round`);
  for (const kind of kinds) {
    const rs = results.get(kind)!;
    const variants = rs[0].throughput.map((t) => t.variant);
    for (const v of variants) {
      const per = rs.map((r) => r.throughput.find((t) => t.variant === v)!);
      const mean = per.reduce((a, t) => a + t.perSec, 0) / per.length;
      console.log(`${LABEL[kind].padEnd(48)}${pad(v, 10)}${pad(f(mean, 0), 10)}${pad(per.map((t) => t.done).join('/'), 12)}   ${per.map((t) => f(t.perSec, 0)).join(', ')}`);
    }
  }
}

if (process.argv[2] === 'worker') {
  childMain(process.argv[3] as Kind, process.argv[4]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  const watchdog = setTimeout(() => {
    console.error(`bench exceeded ${TIME_LIMIT_MS / 1000} s`);
    process.exit(2);
  }, TIME_LIMIT_MS);
  watchdog.unref();
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
