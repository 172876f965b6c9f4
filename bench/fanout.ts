/**
 * `npm run bench:fanout`: live fan-out of sendMessage to graphql-ws subscribers, next to
 * raw baselines doing the work by hand, under the same load in the same run (issue 13).
 *
 * Three processes share the machine: the service (dist/api/src/main.js on a throwaway
 * embedded PostgreSQL, a model provider configured), the raw baseline server
 * (raw-server.ts), and this load generator with every subscriber socket and a loopback
 * fake of the provider. Servers never share an event loop with the load, so neither side's
 * numbers are flattered by the other.
 *
 * Three arms, each driven over HTTP by the same undici client and timed from the same
 * point, just before its HTTP request, to receipt at each of the group's 20 subscribers:
 * - Roundtable: sendMessage, delivered to graphql-ws subscribers;
 * - raw, same SQL: the service's own send statement (seq under the group's row lock,
 *   membership check, event row, idempotency key), on groups of its own, then `ws.send`
 *   of one stringified event to 20 plain sockets;
 * - raw, plain INSERT: one prepared INSERT, the seq from a counter in memory, then the same.
 * The benched groups have the AI on in MENTIONS mode and no message speaks to it, so no AI
 * job is enqueued and the fake provider must see no request (checked).
 *
 * Phases: warm-up; a light fixed rate every arm sustains (latency); a closed loop (max
 * sustainable deliveries/s); the target fixed rate (30,000 deliveries/s offered). Each
 * phase runs the arms in rounds, their order rotating from round to round; the table shows
 * each arm's median over its rounds (latency max and loop-delay max: the worst round).
 * Ratios are ours / raw-same-SQL (what the targets compare with) and ours / raw-plain.
 * Beside latency: each server's event-loop delay over the run (the service's from its
 * prom-client metrics, 1 ms resolution, the raw server's from monitorEventLoopDelay), and
 * CPU per message of the server, PostgreSQL and this process (cpu-usage.ts). Every run
 * also checks seq order per subscriber, byte-identical payloads within a group, and the
 * service's count of subscription executions against the events it dispatched.
 *
 * Env: BENCH_RATE (target load in messages/s, default 1500 = 30,000 deliveries/s),
 * BENCH_SECONDS (seconds per run at the target load, 8), BENCH_LIGHT_RATE (messages/s of
 * the light load, 300), BENCH_LIGHT_SECONDS (6), BENCH_MAX_SECONDS (closed loop, 8),
 * BENCH_WARMUP_SECONDS (4), BENCH_ROUNDS (rounds of every phase; by default 3 light, 2
 * closed-loop, 1 target), BENCH_CPU_PROF (a directory: CPU profile of the service),
 * BENCH_PERF_MAP=1 (the service writes a perf map for `perf record`), BENCH_NODE_FLAGS
 * (extra node flags for the service, e.g. "--max-semi-space-size=64").
 */
import { ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type WebSocket from 'ws';
import { signDevToken } from '../api/src/auth/jwt';
import { cpuDelta, cpuSample, CpuSample } from './cpu-usage';
import { GraphqlHttp, graphqlWsSubscriber, JsonHttp, now, OrderCheck, PayloadCheck, rawSubscriber, Run, RunResult, Subscriber, SubscriberHooks } from './fanout-clients';
import type { LoopDelay, RawArm, RawCommand, RawSend, RawTally } from './raw-server';
import { runBench, ServiceProcess, stopChild } from './service-process';

const GROUPS = 8;
const PER_GROUP = 20;
const SENDERS_PER_GROUP = 2;
const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RATE = setting('BENCH_RATE', 1500);
const TARGET_MS = setting('BENCH_SECONDS', 8) * 1000;
const LIGHT_RATE = setting('BENCH_LIGHT_RATE', 300);
const LIGHT_MS = setting('BENCH_LIGHT_SECONDS', 6) * 1000;
const SATURATE_MS = setting('BENCH_MAX_SECONDS', 8) * 1000;
const WARMUP_MS = setting('BENCH_WARMUP_SECONDS', 4) * 1000;
const rounds = (fallback: number) => setting('BENCH_ROUNDS', fallback);
const IN_FLIGHT = 8 * GROUPS;
const TIME_LIMIT_MS = 420_000;
/** Issue 13's PostgreSQL CPU per message at saturation "today" (590–720 µs): the low end, the stricter target. */
const TODAY_POSTGRES_US = 590;
const SECRET = 'fanout-bench-secret-that-is-long-enough-0123456789';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;
const SERVICE_METRICS = [
  'roundtable_subscription_executions_total',
  'roundtable_group_events_delivered_total',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_max_seconds',
] as const;

type Arm = 'ours' | RawArm;
const ARMS: readonly Arm[] = ['ours', 'sql', 'plain'];
const ARM_LABEL: Record<Arm, string> = {
  ours: 'Roundtable (HTTP -> graphql-ws)',
  sql: 'raw, same SQL (HTTP -> ws)',
  plain: 'raw, plain INSERT (HTTP -> ws)',
};

interface BenchUser {
  id: string;
  token: string;
  username: string;
  displayName: string;
  photoUrl: string;
}

/** One run of one arm: deliveries, the CPU ms each process spent per message, the arm's server's loop delay. */
interface Measured extends RunResult {
  cpu: { server: number; postgres: number; client: number } | null;
  loop: LoopDelay | null;
  /** The service's subscription executions (execute + JSON.stringify) and events handed to subscriptions; 0 for raw. */
  executions: number;
  handed: number;
  /** Messages that arrived byte-identical at every subscriber of their group. */
  identical: number;
}

/** Sends message `n` to `group`; resolves when every subscriber has it and the HTTP request returned. */
type Sender = (n: number, group: number, run: Run) => Promise<void>;
type Load = (send: Sender, run: Run) => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const body = (n: number) => `Message ${n}: are we still on for dinner on Friday? I can book the place near the station.`;

/** A loopback stand-in for the model provider: answers 503 and counts the requests, which must stay 0. */
class FakeProvider {
  requests = 0;
  private readonly server = http.createServer((req, res) => {
    this.requests++;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bench: no message should reach the provider"}}');
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

class Bench {
  readonly service = new ServiceProcess('bench');
  readonly provider = new FakeProvider();
  private raw: ChildProcess | null = null;
  private rawPort: Promise<number> = Promise.resolve(0);
  private readonly clients: Subscriber[] = [];
  private readonly rawSockets: WebSocket[] = [];
  readonly subscriberErrors: unknown[] = [];
  readonly oursPayloads = new PayloadCheck(PER_GROUP);
  readonly rawPayloads = new PayloadCheck(PER_GROUP);
  readonly order: OrderCheck[] = [];
  current: Run | null = null;
  lastFrame = 0;
  api!: GraphqlHttp;
  rawHttp: JsonHttp | null = null;
  /** The service's groups, with the graphql-ws subscribers. */
  groups: Array<{ id: string; members: BenchUser[] }> = [];
  /** Groups of the same members for the same-SQL baseline, which no service subscriber watches. */
  rawGroups: Array<{ id: string }> = [];

  async start(): Promise<void> {
    const providerUrl = await this.provider.start();
    await this.service.start({
      jwtSecret: SECRET,
      cpuProfileDir: process.env.BENCH_CPU_PROF,
      env: { OPENAI_BASE_URL: providerUrl, OPENAI_API_KEY: 'bench', METRICS_LOOP_RESOLUTION_MS: '1' },
    });
    this.api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
    const raw = fork(path.join(__dirname, 'raw-server.js'), [], { env: { PATH: process.env.PATH, DATABASE_URL: this.service.databaseUrl }, stdio: 'inherit' });
    this.raw = raw;
    this.rawPort = new Promise<number>((resolve, reject) => {
      raw.once('message', (m: { t: string; port: number }) => (m.t === 'ready' ? resolve(m.port) : reject(new Error('raw server failed'))));
      raw.once('exit', () => reject(new Error('raw server exited')));
    });
    this.rawPort.catch(() => undefined);
  }

  /** 160 users with profiles; 8 groups of 20 members, and 8 more of the same members for the same-SQL baseline; AI in MENTIONS mode. */
  async seed(): Promise<void> {
    const users = await Promise.all(
      range(GROUPS * PER_GROUP).map(async (i): Promise<BenchUser> => {
        const token = await signDevToken(SECRET, { sub: `bench-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
        const username = `bench_${i}`;
        const input = { displayName: `Bench user ${i}`, username, photoUrl: `https://example.test/${username}.png` };
        const r = await this.api.request<{ upsertProfile: { id: string } }>(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: input });
        return { id: r.upsertProfile.id, token, username, displayName: input.displayName, photoUrl: input.photoUrl };
      }),
    );
    const group = async (g: number, title: string) => {
      const members = users.slice(g * PER_GROUP, (g + 1) * PER_GROUP);
      const r = await this.api.request<{ createGroup: { id: string } }>(members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
        i: { title, memberUsernames: members.slice(1).map((m) => m.username) },
      });
      // The AI participant is on, answering mentions only; no bench message mentions it.
      await this.api.request(members[0].token, `mutation($g: ID!) { updateGroup(groupId: $g, input: { aiMode: MENTIONS }) { id } }`, { g: r.createGroup.id });
      return { id: r.createGroup.id, members };
    };
    this.groups = await Promise.all(range(GROUPS).map((g) => group(g, `Bench group ${g}`)));
    this.rawGroups = await Promise.all(range(GROUPS).map((g) => group(g, `Bench group ${g} (raw, same SQL)`)));
  }

  private hooks(group: number, payloads: PayloadCheck, order: OrderCheck | null): SubscriberHooks {
    return {
      group,
      onFrame: (raw) => {
        this.lastFrame = Date.now();
        payloads.frame(group, raw);
      },
      onEvent: (e, t) => {
        if (order && e.seq !== null) order.seq(e.seq);
        const cmid = e.message?.clientMessageId;
        if (cmid) this.current?.received(cmid, t);
      },
      onError: (err) => this.subscriberErrors.push(err),
    };
  }

  /** One graphql-ws client per member of every group, and the same number of raw sockets (which both raw arms use). */
  async connect(): Promise<void> {
    const wsUrl = `ws://127.0.0.1:${this.service.port}/graphql`;
    for (const [g, group] of this.groups.entries()) {
      for (const m of group.members) {
        const order = new OrderCheck();
        this.order.push(order);
        this.clients.push(graphqlWsSubscriber(wsUrl, m.token, group.id, this.hooks(g, this.oursPayloads, order)));
      }
    }
    await this.service.waitForSubscriptions(GROUPS * PER_GROUP, this.subscriberErrors);

    const rawPort = await this.rawPort;
    this.rawHttp = new JsonHttp(`http://127.0.0.1:${rawPort}`);
    for (const g of range(GROUPS)) {
      for (const _ of range(PER_GROUP)) this.rawSockets.push(await rawSubscriber(`ws://127.0.0.1:${rawPort}/?g=${g}`, this.hooks(g, this.rawPayloads, null)));
    }
  }

  /** Every arm alike: registered, stamped, then one HTTP request; done when delivered everywhere and answered. */
  sender(arm: Arm, prefix: string): Sender {
    return (n, group, run) => {
      const { id, members } = this.groups[group];
      const author = members[Math.floor(n / GROUPS) % SENDERS_PER_GROUP];
      const cmid = `${arm}-${prefix}-${n}`;
      const t0 = now();
      const delivered = run.expect(cmid, t0);
      const sent = (arm === 'ours' ? this.sendOurs(author, id, n, cmid) : this.sendRaw(arm, group, author, n, cmid)).catch((err) => {
        if (run.failures++ === 0) console.error(`${ARM_LABEL[arm]}: send failed:`, String(err));
        run.abandon(cmid);
      });
      return Promise.all([delivered, sent]).then(() => undefined);
    };
  }

  private sendOurs(author: BenchUser, groupId: string, n: number, cmid: string): Promise<unknown> {
    return this.api.request(author.token, SEND, { i: { groupId, body: body(n), clientMessageId: cmid } });
  }

  private async sendRaw(arm: RawArm, group: number, a: BenchUser, n: number, cmid: string): Promise<void> {
    const send: RawSend = {
      arm,
      group,
      groupId: (arm === 'sql' ? this.rawGroups : this.groups)[group].id,
      cmid,
      body: body(n),
      author: { id: a.id, username: a.username, displayName: a.displayName, photoUrl: a.photoUrl },
    };
    const { status, json } = await this.rawHttp!.post<{ error?: string }>('/send', send);
    if (status !== 200) throw new Error(`raw server: ${status} ${json.error ?? ''}`);
  }

  /** Asks the raw server over IPC; resolves to its answer of the same `t`. */
  private ask<T>(t: 'loop' | 'tally'): Promise<T> {
    const raw = this.raw!;
    return new Promise((resolve) => {
      const answer = (m: { t: string } & Record<string, unknown>) => {
        if (m.t !== t) return;
        raw.off('message', answer);
        resolve(m[t === 'loop' ? 'delay' : 'tally'] as T);
      };
      raw.on('message', answer);
      raw.send({ t } satisfies RawCommand);
    });
  }

  /** The raw server's event-loop delay since the last ask; it starts afresh. */
  private rawLoop(): Promise<LoopDelay> {
    return this.ask<LoopDelay>('loop');
  }

  /** What the raw same-SQL arm's statement reported so far. */
  rawTally(): Promise<RawTally> {
    return this.ask<RawTally>('tally');
  }

  private cpu(): CpuSample | null {
    return cpuSample(this.service.pid!, this.raw!.pid!, this.service.dataDir);
  }

  async measure(arm: Arm, prefix: string, load: Load): Promise<Measured> {
    const ours = arm === 'ours';
    const payloads = ours ? this.oursPayloads : this.rawPayloads;
    const run = new Run(PER_GROUP);
    // Both start the server's loop-delay figures afresh.
    const before = ours ? await this.service.metrics(SERVICE_METRICS) : (await this.rawLoop(), null);
    const identical0 = payloads.identical;
    const cpuBefore = this.cpu();
    this.current = run;
    await load(this.sender(arm, prefix), run);
    await run.drain(5000);
    // An overloaded run leaves a backlog: it counts (late deliveries, CPU), and must not spill into the next run.
    const loaded = Date.now();
    while (Date.now() - this.lastFrame < 500 && Date.now() - loaded < 20_000) await sleep(100);
    this.current = null;
    const cpu = cpuDelta(cpuBefore, this.cpu());
    const after = ours ? await this.service.metrics(SERVICE_METRICS) : null;
    const loop = after ? { p50: after[2] * 1000, p99: after[3] * 1000, max: after[4] * 1000 } : await this.rawLoop();
    const result = run.result();
    return {
      ...result,
      cpu: cpu && { server: (ours ? cpu.service : cpu.raw) / result.sent, postgres: cpu.postgres / result.sent, client: cpu.bench / result.sent },
      loop: Object.values(loop).every(Number.isFinite) ? loop : null,
      executions: before && after ? after[0] - before[0] : 0,
      handed: before && after ? after[1] - before[1] : 0,
      identical: payloads.identical - identical0,
    };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.dispose()));
    for (const s of this.rawSockets) s.terminate();
    this.api?.close();
    this.rawHttp?.close();
    // The baseline holds PostgreSQL connections: it goes before the database does.
    await stopChild(this.raw, (raw) => raw.send({ t: 'stop' } satisfies RawCommand));
    await this.service.stop();
    await this.provider.close();
  }
}

/** Open loop: message n goes out at n / rate seconds, whatever happened to the ones before. */
const fixedRate = (rate: number, ms: number): Load => async (send, run) => {
  const total = Math.floor((rate * ms) / 1000);
  const start = performance.now();
  let n = 0;
  while (n < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (n < due) void send(n, n % GROUPS, run).catch(() => undefined), n++;
    await sleep(1);
  }
};

/** Closed loop: `inFlight` senders each wait for full delivery before sending again. */
const saturate = (inFlight: number, ms: number): Load => async (send, run) => {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    range(inFlight).map(async (slot) => {
      while (performance.now() < end) {
        // A message that never arrives everywhere must not stop its sender for good.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([send(n++, slot % GROUPS, run), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
      }
    }),
  );
};

interface Phase {
  title: string;
  rounds: number;
  /** Each arm's runs, round by round. */
  runs: Record<Arm, Measured[]>;
  /** Each arm's median over its rounds (latency and loop-delay max: the worst), counts summed. */
  arms: Record<Arm, Measured>;
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const worst = (xs: number[]) => (xs.some(Number.isFinite) ? Math.max(...xs.filter(Number.isFinite)) : NaN);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

function summarize(runs: Measured[]): Measured {
  const of = (f: (m: Measured) => number) => runs.map(f);
  const cpus = runs.map((r) => r.cpu).filter((c) => c !== null);
  const loops = runs.map((r) => r.loop).filter((l) => l !== null);
  return {
    sent: sum(of((r) => r.sent)),
    expected: sum(of((r) => r.expected)),
    delivered: sum(of((r) => r.delivered)),
    failures: sum(of((r) => r.failures)),
    p50: median(of((r) => r.p50)),
    p99: median(of((r) => r.p99)),
    max: worst(of((r) => r.max)),
    perSecond: median(of((r) => r.perSecond)),
    cpu: cpus.length ? { server: median(cpus.map((c) => c.server)), postgres: median(cpus.map((c) => c.postgres)), client: median(cpus.map((c) => c.client)) } : null,
    loop: loops.length ? { p50: median(loops.map((l) => l.p50)), p99: median(loops.map((l) => l.p99)), max: worst(loops.map((l) => l.max)) } : null,
    executions: sum(of((r) => r.executions)),
    handed: sum(of((r) => r.handed)),
    identical: sum(of((r) => r.identical)),
  };
}

/** `rounds` rounds of every arm under `load`, the order rotating: round 1 sql, plain, ours; round 2 plain, ours, sql; ... */
async function phase(bench: Bench, name: string, title: string, rounds: number, load: () => Load): Promise<Phase> {
  const runs: Record<Arm, Measured[]> = { ours: [], sql: [], plain: [] };
  for (let r = 0; r < rounds; r++) {
    for (const i of range(ARMS.length)) {
      const arm = ARMS[(i + r + 1) % ARMS.length];
      runs[arm].push(await bench.measure(arm, `${name}${r}`, load()));
    }
  }
  return { title, rounds, runs, arms: { ours: summarize(runs.ours), sql: summarize(runs.sql), plain: summarize(runs.plain) } };
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const pad = (s: string, n: number) => s.padStart(n);
const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

const LABEL = 36;
const loopCells = (r: Measured) => (r.loop ? [r.loop.p50, r.loop.p99, r.loop.max].map((ms) => pad(fmt(ms, 1), 7)).join('') : pad('n/a', 21));
const cpuCells = (r: Measured) => (r.cpu ? [r.cpu.server, r.cpu.postgres, r.cpu.client].map((ms) => pad(fmt(ms * 1000, 0), 9)).join('') : pad('n/a', 27));

function row(label: string, r: Measured): string {
  const pct = r.expected ? ((100 * r.delivered) / r.expected).toFixed(2) : '0';
  return `${label.padEnd(LABEL)}${pad(fmt(r.p50, 2), 8)}${pad(fmt(r.p99, 2), 8)}${pad(fmt(r.max, 0), 7)}${pad(int(r.perSecond), 14)}${pad(`${pct}%`, 10)}  ${loopCells(r)}  ${cpuCells(r)}`;
}

const times = (x: number) => pad(fmt(x, 2) + 'x', 8);
const ratioRow = (label: string, ours: Measured, raw: Measured) =>
  `${label.padEnd(LABEL)}${times(ours.p50 / raw.p50)}${times(ours.p99 / raw.p99)}${pad(fmt(ours.max / raw.max, 1) + 'x', 7)}${pad(fmt(ours.perSecond / raw.perSecond, 2) + 'x', 14)}`;

/** Per round, in the order run: each arm's p50/p99 ms and deliveries/s, so the spread behind a median shows. */
function roundsLine(p: Phase): string {
  const cell = (arm: Arm, r: number) => {
    const m = p.runs[arm][r];
    return `${arm} ${fmt(m.p50, 2)}/${fmt(m.p99, 2)} ms ${int(m.perSecond)}/s`;
  };
  return range(p.rounds)
    .map((r) => `  round ${r + 1}: ${range(ARMS.length).map((i) => cell(ARMS[(i + r + 1) % ARMS.length], r)).join(', ')}`)
    .join('\n');
}

interface Report {
  load: string;
  light: Phase;
  max: Phase;
  target: Phase;
  /** An idle Node process's loop delay over the light phase: the machine's own stalls. */
  idleLight: LoopDelay;
  seconds: number;
  tally: RawTally;
}

/** The printed table; returns whether every correctness check passed. */
function report(bench: Bench, { load, light, max, target, idleLight, seconds, tally }: Report): boolean {
  const phases = [light, max, target];
  const ours = phases.map((p) => p.arms.ours);
  const gaps = sum(bench.order.map((o) => o.gaps));
  const dups = sum(bench.order.map((o) => o.duplicates));
  const sent = sum(ours.map((m) => m.sent));
  const executions = sum(ours.map((m) => m.executions));
  const handed = sum(ours.map((m) => m.handed));
  /** Events the feed dispatched (each handed to every subscriber of its group). */
  const dispatched = handed / PER_GROUP;
  const failures = (arm: Arm) => sum(phases.map((p) => p.arms[arm].failures));
  const head =
    `${''.padEnd(LABEL)}${pad('p50', 8)}${pad('p99', 8)}${pad('max', 7)}${pad('deliveries/s', 14)}${pad('delivered', 10)}` +
    `  ${pad('p50', 7)}${pad('p99', 7)}${pad('max', 7)}  ${pad('server', 9)}${pad('postgres', 9)}${pad('client', 9)}`;
  const line = '-'.repeat(head.length);
  const block = (p: Phase) => [
    `${p.title}; median of ${p.rounds} round${p.rounds === 1 ? '' : 's'}`,
    ...ARMS.map((arm) => row(`  ${ARM_LABEL[arm]}`, p.arms[arm])),
    ratioRow('  ratio ours / raw same SQL', p.arms.ours, p.arms.sql),
    ratioRow('  ratio ours / raw plain INSERT', p.arms.ours, p.arms.plain),
    ...(p.rounds > 1 ? [roundsLine(p)] : []),
  ];

  const oursMax = max.arms.ours;
  const maxRatio = oursMax.perSecond / max.arms.sql.perSecond;
  const lightRatio = (k: 'p50' | 'p99', raw: Arm) => light.arms.ours[k] / light.arms[raw][k];
  const latencyTarget = (k: 'p50' | 'p99', limit: number) =>
    `Target light-load ${k} <= ${limit}x raw doing the same SQL:  ${fmt(lightRatio(k, 'sql'), 2)}x  ${verdict(lightRatio(k, 'sql') <= limit)}` +
    `   (${fmt(light.arms.ours[k], 2)} ms against ${fmt(light.arms.sql[k], 2)} ms; ${fmt(lightRatio(k, 'plain'), 2)}x raw plain INSERT)`;
  const stall = light.arms.ours.loop?.max ?? NaN;
  const postgresUs = (oursMax.cpu?.postgres ?? NaN) * 1000;
  const postgresLimit = 0.6 * TODAY_POSTGRES_US;
  const targetLoad = target.arms.ours;
  console.log(
    [
      '',
      `Roundtable fan-out bench: ${GROUPS} groups x ${PER_GROUP} subscribers = ${GROUPS * PER_GROUP} graphql-ws clients (and as many raw ws sockets), ` +
        `${GROUPS * SENDERS_PER_GROUP} senders, AI on in MENTIONS mode (no message mentions it); ${os.cpus().length} cores, load average at start ${load}.`,
      `Latency: from just before each arm's HTTP request (same client, same point) to receipt at each subscriber. deliveries/s: receipts while the load ran.`,
      `Loop delay: the arm's server's event-loop delay over the run (monitorEventLoopDelay at 1 ms resolution; figures include that 1 ms).`,
      `CPU: us per message used by the arm's server process, all PostgreSQL processes, and this load generator with all its subscribers.`,
      `Arms alternate: each phase runs them in rounds, the order rotating; figures are medians over the rounds (max columns: the worst round).`,
      line,
      `${''.padEnd(LABEL)}${pad('latency, ms', 23)}${''.padEnd(24)}  ${pad('loop delay, ms', 19)}  ${pad('CPU us per message', 27)}`,
      head,
      line,
      ...block(light),
      ...block(max),
      ...block(target),
      line,
      `Serialized once per event: the service executed and stringified ${int(executions)} results for the ${int(dispatched)} events it ` +
        `handed to ${int(handed)} subscriptions (${fmt(executions / dispatched, 2)} per event); ${int(sum(ours.map((m) => m.identical)))} of ${int(sent)} sent ` +
        `arrived byte-identical at all ${PER_GROUP} subscribers of their group, ${bench.oursPayloads.mismatched} differed.`,
      `Order: ${gaps} gaps and ${dups} duplicates in seq across ${GROUPS * PER_GROUP} subscribers; failed sends: ${failures('ours')} ours, ` +
        `${failures('sql')} raw same SQL, ${failures('plain')} raw plain; ${bench.subscriberErrors.length} subscription errors.`,
      `AI: ${bench.provider.requests} provider requests (must be 0: no message speaks to the AI); the raw same-SQL statement enqueued ` +
        `${tally.aiJobs} ai.respond jobs for its ${int(tally.sent)} messages (must be 0).`,
      line,
      `Target fan-out max deliveries/s >= 0.8x raw doing the same SQL, and >= 25,000/s:  ${int(oursMax.perSecond)}/s, ${fmt(maxRatio, 2)}x  ` +
        `${verdict(maxRatio >= 0.8 && oursMax.perSecond >= 25_000)}   (${fmt(oursMax.perSecond / max.arms.plain.perSecond, 2)}x raw plain INSERT)`,
      latencyTarget('p50', 1.5),
      latencyTarget('p99', 3),
      `Target no event-loop stall over 5 ms at the light load (the service's max loop delay, worst of ${light.rounds} round${light.rounds === 1 ? '' : 's'}):  ${fmt(stall, 1)} ms  ` +
        `${verdict(stall <= 5)}   (raw server: ${fmt(light.arms.sql.loop?.max ?? NaN, 1)} ms same SQL, ${fmt(light.arms.plain.loop?.max ?? NaN, 1)} ms plain; ` +
        `an idle Node process over the whole light phase: p99 ${fmt(idleLight.p99, 1)} ms, max ${fmt(idleLight.max, 1)} ms)`,
      `Target PostgreSQL CPU per message at saturation <= 60% of ${TODAY_POSTGRES_US} us (issue 13's "today", low end of 590-720 us) = ${fmt(postgresLimit, 0)} us:  ` +
        `${fmt(postgresUs, 0)} us  ${verdict(postgresUs <= postgresLimit)}   (raw same SQL: ${fmt((max.arms.sql.cpu?.postgres ?? NaN) * 1000, 0)} us)`,
      `Target >= 30,000 deliveries/s sustained at the target load, all delivered:  ${int(targetLoad.perSecond)}/s, ` +
        `${fmt((100 * targetLoad.delivered) / targetLoad.expected, 2)}% delivered  ${verdict(targetLoad.perSecond >= 30_000 && targetLoad.delivered === targetLoad.expected)}`,
      `(bench took ${fmt(seconds, 0)} s)`,
    ].join('\n'),
  );
  return gaps === 0 && dups === 0 && bench.oursPayloads.mismatched === 0 && executions <= dispatched && bench.subscriberErrors.length === 0 && bench.provider.requests === 0 && tally.aiJobs === 0;
}

void runBench(new Bench(), TIME_LIMIT_MS, async (bench, load) => {
  const started = Date.now();
  await bench.start();
  await bench.seed();
  await bench.connect();
  await bench.measure('ours', 'warm', fixedRate(400, WARMUP_MS));
  await bench.measure('sql', 'warm', fixedRate(400, WARMUP_MS / 2));
  await bench.measure('plain', 'warm', fixedRate(400, WARMUP_MS / 2));
  const idle = await IdleProbe.start();
  await idle.delay();
  const light = await phase(bench, 'light', `At a light load, for latency: ${offeredText(LIGHT_RATE, LIGHT_MS)}`, rounds(3), () => fixedRate(LIGHT_RATE, LIGHT_MS));
  const idleLight = await idle.delay();
  await idle.stop();
  const max = await phase(
    bench,
    'max',
    `Max sustainable: closed loop, ${IN_FLIGHT} messages in flight, each waiting for all ${PER_GROUP} deliveries and its answer, for ${SATURATE_MS / 1000} s`,
    rounds(2),
    () => saturate(IN_FLIGHT, SATURATE_MS),
  );
  // Last: if the service cannot keep up with the target load, its backlog delays nothing else.
  const target = await phase(bench, 'target', `At the target load: ${offeredText(RATE, TARGET_MS)}`, rounds(1), () => fixedRate(RATE, TARGET_MS));
  return report(bench, { load, light, max, target, idleLight, seconds: (Date.now() - started) / 1000, tally: await bench.rawTally() });
});

/** An idle Node process beside the bench (idle-probe.ts): the machine's own event-loop stalls. */
class IdleProbe {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<IdleProbe> {
    const child = fork(path.join(__dirname, 'idle-probe.js'), [], { env: { PATH: process.env.PATH }, stdio: 'inherit' });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', () => reject(new Error('idle probe exited')));
    });
    return new IdleProbe(child);
  }

  /** Its loop delay since the last ask. */
  delay(): Promise<LoopDelay> {
    return new Promise((resolve) => {
      this.child.once('message', (m: { delay: LoopDelay }) => resolve(m.delay));
      this.child.send({ t: 'loop' });
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child, (c) => c.send({ t: 'stop' }));
  }
}

function offeredText(rate: number, ms: number): string {
  return `${int(rate)} messages/s = ${int(rate * PER_GROUP)} deliveries/s offered for ${ms / 1000} s (open loop)`;
}
