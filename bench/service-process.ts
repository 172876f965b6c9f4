/**
 * The service under test, as the benches run it: dist/api/src/main.js in a child process
 * of its own, on a throwaway embedded PostgreSQL in .data/<prefix>-<pid>, so its event
 * loop shares nothing with the load generator and no run sees another run's data. And
 * the bench process around it: however a bench ends, the service and its data go too.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { MemorySample } from './memory-probe';
import { EmbeddedDatabase, freePort, startEmbeddedPostgres } from '../api/src/db/embedded';

const ROOT = path.resolve(__dirname, '..', '..');
const STARTUP_MS = 30_000;
const KILL_AFTER_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The node flags the service runs with, as `npm start` and the Dockerfile start it
 * (tests/lifecycle/node-flags.test.ts keeps the three alike). A 32 MB semi-space: a page of
 * history or a burst of sends allocates a few MB of objects that die young, and with the
 * default 16 MB young generation the scavenger promoted part of them and ran twice as often.
 * bench:history served 515 -> 641 pages/s with it (1.25x), bench:fanout's max 21.7k -> 24.5k
 * deliveries/s, for up to 48 MB more young generation per process.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];

export interface ServiceOptions {
  /** JWT_SECRET; the bench signs its dev tokens with the same one. */
  jwtSecret: string;
  /** Variables on top of the common environment, e.g. the model provider's URL. */
  env?: Record<string, string>;
  /** When set, the service writes a CPU profile (node --cpu-prof) into this directory. */
  cpuProfileDir?: string;
  /** Starts the service with --expose-gc and bench/memory-probe.ts over IPC, for `memory()`. */
  memoryProbe?: boolean;
}

/**
 * One service process and its database. `stop()` is safe at any point, after a failed or
 * partial `start()` too, and leaves no process or data directory behind.
 */
export class ServiceProcess {
  readonly dataDir: string;
  port = 0;
  private embedded: EmbeddedDatabase | null = null;
  private child: ChildProcess | null = null;
  private options: ServiceOptions | null = null;

  /** `dataDirPrefix` names the data directory, which is emptied before and removed after. */
  constructor(dataDirPrefix: string) {
    this.dataDir = path.join(ROOT, '.data', `${dataDirPrefix}-${process.pid}`);
  }

  /** The service's pid, for CPU accounting; undefined before `start()`. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** PostgreSQL's connection string, for other processes of the bench. */
  get databaseUrl(): string {
    if (!this.embedded) throw new Error('PostgreSQL is not running');
    return this.embedded.url;
  }

  /** Starts PostgreSQL, then the service on a free port; resolves once /healthz answers. */
  async start(options: ServiceOptions): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
    this.embedded = await startEmbeddedPostgres(this.dataDir, 0, pino({ level: 'warn' }));
    this.port = await freePort();
    this.options = options;
    await this.spawn(options);
  }

  /** A fresh service process on the same database and port (e.g. to measure from a clean heap after seeding). */
  async restart(): Promise<void> {
    await stopChild(this.child, (child) => child.kill('SIGTERM'));
    await this.spawn(this.options!);
  }

  private async spawn({ jwtSecret, env = {}, cpuProfileDir, memoryProbe = false }: ServiceOptions): Promise<void> {
    if (!this.embedded) throw new Error('PostgreSQL is not running');
    const prof = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfileDir)}`] : [];
    // BENCH_PERF_MAP=1: a /tmp/perf-<pid>.map for `perf record`, which samples on-CPU time only.
    if (process.env.BENCH_PERF_MAP === '1') prof.push('--perf-basic-prof');
    if (process.env.BENCH_NODE_FLAGS) prof.push(...process.env.BENCH_NODE_FLAGS.split(' '));
    if (memoryProbe) prof.push('--expose-gc', '-r', path.join(ROOT, 'dist/bench/memory-probe.js'));
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...prof, path.join(ROOT, 'dist/api/src/main.js')], {
      cwd: ROOT,
      stdio: memoryProbe ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'inherit', 'inherit'],
      env: {
        ...(memoryProbe ? { BENCH_MEMORY_PROBE: '1' } : {}),
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        DATABASE_URL: this.embedded.url,
        REDIS_URL: '',
        JWT_SECRET: jwtSecret,
        STAFF_JWT_SECRET: `staff-${jwtSecret}`,
        MESSAGE_RATE_PER_MINUTE: '100000',
        LOG_LEVEL: 'warn',
        SHUTDOWN_GRACE_MS: '1000',
        ...env,
      },
    });
    this.child = child;
    const deadline = Date.now() + STARTUP_MS;
    while (!(await this.get('/healthz').then(() => true, () => false))) {
      if (Date.now() > deadline || child.exitCode != null) throw new Error('the service did not become healthy');
      await sleep(100);
    }
  }

  /** The body of a GET on the service; rejects on any status but 200. */
  get(pathname: string): Promise<string> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: this.port, path: pathname }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${pathname}: ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  }

  /** A metric's value from /metrics (the first series if it has labels); NaN when absent. */
  async metric(name: string): Promise<number> {
    return (await this.metrics([name]))[0];
  }

  /**
   * Several metrics from one scrape, in the order asked. A scrape also starts the service's
   * event-loop delay figures (`nodejs_eventloop_lag_*`) afresh: they cover the time since the last.
   */
  async metrics(names: readonly string[]): Promise<number[]> {
    const lines = (await this.get('/metrics')).split('\n');
    return names.map((name) => {
      const line = lines.find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
    });
  }

  /** Resolves once the service has `count` subscriptions running; throws at the first of `errors` or after 30 s. */
  async waitForSubscriptions(count: number, errors: readonly unknown[]): Promise<void> {
    const deadline = Date.now() + STARTUP_MS;
    while ((await this.metric('roundtable_subscriptions_active')) < count) {
      if (Date.now() > deadline || errors.length) throw new Error(`subscriptions did not start: ${String(errors[0])}`);
      await sleep(100);
    }
  }

  /** The service's memory after full collections (needs `memoryProbe`). */
  memory(): Promise<MemorySample> {
    return askChild(this.child!, { t: 'memory' }).then((m) => (m as { usage: MemorySample }).usage);
  }

  /** Writes a heap snapshot of the service to `file` (needs `memoryProbe`). */
  heapSnapshot(file: string): Promise<void> {
    return askChild(this.child!, { t: 'heap-snapshot', file }).then(() => undefined);
  }

  /** SIGTERM to the service (its graceful shutdown), then PostgreSQL stops and the data directory goes. */
  async stop(): Promise<void> {
    await stopChild(this.child, (child) => child.kill('SIGTERM'));
    await this.embedded?.stop().catch((err) => console.error('stopping PostgreSQL failed:', err));
    this.embedded = null;
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** Sends `{ t, ... }` to a child over IPC and resolves with its first reply of the same `t`. */
export function askChild(child: ChildProcess, message: { t: string } & Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { t?: string }) => {
      if (m?.t !== message.t) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = () => {
      child.off('message', onMessage);
      reject(new Error(`the child exited before answering ${message.t}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}

/**
 * Asks `child` to exit with `ask` and resolves once it has; SIGKILL if it is still there
 * after 15 s. Resolves at once for a child that never started or has already exited.
 */
export function stopChild(child: ChildProcess | null, ask: (child: ChildProcess) => void): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    ask(child);
  });
}

/**
 * Runs `body` on `bench` and exits the process: 0 when it returns true, 1 when it returns
 * false or throws, 2 past `timeLimitMs`, 130 on SIGINT or SIGTERM; `bench.stop()` runs on
 * every path. `body` gets the load average at the start, for the printed table.
 */
export async function runBench<B extends { stop(): Promise<void> }>(bench: B, timeLimitMs: number, body: (bench: B, load: string) => Promise<boolean>): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench exceeded ${timeLimitMs / 1000} s; stopping`);
    void bench.stop().finally(() => process.exit(2));
  }, timeLimitMs);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void bench.stop().finally(() => process.exit(130)));

  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  let ok = false;
  try {
    ok = await body(bench, load);
  } catch (err) {
    console.error(err);
  } finally {
    await bench.stop();
  }
  process.exit(ok ? 0 : 1);
}
