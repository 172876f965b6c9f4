/**
 * `npm run bench:idle`: what the service costs at rest. A process that takes no request
 * still runs its timers: the job queue's polls, the lease heartbeat, the metrics' event-loop
 * sampling. Started as the benches start it (a child process on a throw-away embedded
 * PostgreSQL, with a model provider configured, ROLE=all), left alone to settle, then
 * measured: CPU per second of the service and of its PostgreSQL, first with no client at
 * all, then with bench:fanout's subscribers connected (8 groups of 20, one groupEvents
 * subscription each over graphql-ws) and nothing sent.
 *
 * Env: BENCH_IDLE_SECONDS (each measure, 20), BENCH_IDLE_GROUPS (8), BENCH_SERVICE_ENV
 * (extra settings, `K=V,K=V`).
 */
import { signDevToken } from '../api/src/auth/jwt';
import { cpuDelta, cpuSample } from './cpu-usage';
import { GraphqlHttp, graphqlWsSubscriber, Subscriber } from './fanout-clients';
import { runBench, ServiceProcess } from './service-process';

const GROUPS = Number(process.env.BENCH_IDLE_GROUPS ?? 8);
const MEMBERS = 20;
const SECRET = 'idle-bench-secret-that-is-long-enough-0123456789';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const SETTLE_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class IdleBench {
  readonly service = new ServiceProcess('bench-idle');
  readonly subscribers: Subscriber[] = [];

  /** CPU per second of the service and its PostgreSQL over SECONDS from now. */
  async measure(): Promise<{ service: number; postgres: number }> {
    const before = cpuSample(this.service.pid!, 0, this.service.dataDir);
    const started = Date.now();
    await sleep(SECONDS * 1000);
    const use = cpuDelta(before, cpuSample(this.service.pid!, 0, this.service.dataDir));
    if (!use) throw new Error('CPU use cannot be read here (/proc)');
    const seconds = (Date.now() - started) / 1000;
    return { service: use.service / seconds, postgres: use.postgres / seconds };
  }

  /** GROUPS groups of MEMBERS, every member subscribed to its group's events. */
  async subscribe(): Promise<void> {
    const api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
    const errors: unknown[] = [];
    for (let g = 0; g < GROUPS; g++) {
      const members = await Promise.all(
        Array.from({ length: MEMBERS }, async (_, i) => {
          const token = await signDevToken(SECRET, { sub: `bench-idle-${process.pid}-${g}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
          const username = `bench_idle_${g}_${i}`;
          await api.request(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: { displayName: `Idle ${g} ${i}`, username, photoUrl: `https://example.test/${username}.png` } });
          return { token, username };
        }),
      );
      const r = await api.request<{ createGroup: { id: string } }>(members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
        i: { title: `Idle ${g}`, memberUsernames: members.slice(1).map((m) => m.username) },
      });
      for (const m of members) {
        this.subscribers.push(graphqlWsSubscriber(`ws://127.0.0.1:${this.service.port}/graphql`, m.token, r.createGroup.id, { group: g, onFrame: () => undefined, onEvent: () => undefined, onError: (err) => errors.push(err) }));
      }
    }
    api.close();
    await this.service.waitForSubscriptions(GROUPS * MEMBERS, errors);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.subscribers.map((s) => s.dispose()));
    await this.service.stop();
  }
}

void runBench(new IdleBench(), (2 * SECONDS + 120) * 1000, async (bench, load) => {
  const extra = Object.fromEntries((process.env.BENCH_SERVICE_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
  // A provider that is never called: the AI is configured, as in production.
  await bench.service.start({ jwtSecret: SECRET, env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'idle', ...extra } });
  await sleep(SETTLE_MS);
  const alone = await bench.measure();
  await bench.subscribe();
  await sleep(SETTLE_MS);
  const subscribed = await bench.measure();
  const ms = (x: number) => x.toFixed(1).padStart(8);
  console.log(
    [
      '',
      `Roundtable at rest (ROLE=all), ${SECONDS} s per measure after ${SETTLE_MS / 1000} s to settle; load average at start ${load}.`,
      `ms of CPU per second                         service  PostgreSQL`,
      `  no client                                 ${ms(alone.service)}    ${ms(alone.postgres)}`,
      `  ${String(GROUPS * MEMBERS).padEnd(4)} subscriptions (${GROUPS} groups of ${MEMBERS}), idle ${ms(subscribed.service)}    ${ms(subscribed.postgres)}`,
    ].join('\n'),
  );
  return true;
});
