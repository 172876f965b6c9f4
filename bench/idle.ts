/**
 * `npm run bench:idle`: what the service costs at rest. A process that takes no request
 * still runs its timers: the job queue's polls, the lease heartbeat, the metrics' event-loop
 * sampling. Started as the benches start it (a child process on a throw-away embedded
 * PostgreSQL, with a model provider configured, ROLE=all), left alone to settle, then
 * measured: CPU per second of the service and of its PostgreSQL, with no client at all.
 *
 * Env: BENCH_IDLE_SECONDS (measured, 20), BENCH_SERVICE_ENV (extra settings, `K=V,K=V`).
 */
import { cpuDelta, cpuSample } from './cpu-usage';
import { runBench, ServiceProcess } from './service-process';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const SETTLE_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void runBench(new ServiceProcess('bench-idle'), (SECONDS + 60) * 1000, async (service, load) => {
  const extra = Object.fromEntries((process.env.BENCH_SERVICE_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
  // A provider that is never called: the AI is configured, as in production.
  await service.start({ jwtSecret: 'idle-bench-secret-that-is-long-enough-0123456789', env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'idle', ...extra } });
  await sleep(SETTLE_MS);
  const before = cpuSample(service.pid!, 0, service.dataDir);
  const started = Date.now();
  await sleep(SECONDS * 1000);
  const use = cpuDelta(before, cpuSample(service.pid!, 0, service.dataDir));
  const seconds = (Date.now() - started) / 1000;
  if (!use) throw new Error('CPU use cannot be read here (/proc)');
  const perSecond = (ms: number) => (ms / seconds).toFixed(1);
  console.log(
    [
      '',
      `Roundtable at rest: the service (ROLE=all) and its PostgreSQL with no client, ${seconds.toFixed(0)} s after ${SETTLE_MS / 1000} s to settle; load average at start ${load}.`,
      `  service:    ${perSecond(use.service)} ms of CPU per second`,
      `  PostgreSQL: ${perSecond(use.postgres)} ms of CPU per second`,
    ].join('\n'),
  );
  return true;
});
