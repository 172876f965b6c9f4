/**
 * `npm run bench:fanout`: live fan-out of sendMessage to graphql-ws subscribers, next to
 * a raw baseline doing the same work by hand, under the same load in the same run.
 *
 * Three processes share the machine: the service (dist/api/src/main.js on a throwaway
 * embedded PostgreSQL), the raw baseline server (raw-server.ts), and this load
 * generator with every subscriber socket. Servers never share an event loop with the
 * load, so neither side's numbers are flattered by the other.
 *
 * Phases: warm-up; a light fixed rate both sides sustain (latency); a closed loop (max
 * sustainable deliveries/s); the target fixed rate (30,000 deliveries/s). Every run
 * also checks seq order per subscriber, byte-identical payloads within a group, and the
 * service's count of subscription executions against the events it dispatched.
 *
 * Env: BENCH_RATE (target load in messages/s, default 1500 = 30,000 deliveries/s),
 * BENCH_SECONDS (seconds at the target load, 8), BENCH_LIGHT_RATE (messages/s of the
 * light load, 300), BENCH_CPU_PROF (a directory: CPU profile of the service),
 * BENCH_PERF_MAP=1 (the service writes a perf map for `perf record`), BENCH_NODE_FLAGS
 * (extra node flags for the service, e.g. "--max-semi-space-size=64").
 */
import { ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type WebSocket from 'ws';
import { signDevToken } from '../api/src/auth/jwt';
import { cpuDelta, cpuSample, CpuSample } from './cpu-usage';
import { GraphqlHttp, graphqlWsSubscriber, now, Subscriber, OrderCheck, PayloadCheck, rawSubscriber, Run, RunResult, SubscriberHooks } from './fanout-clients';
import type { RawCommand, RawSend } from './raw-server';
import { runBench, ServiceProcess, stopChild } from './service-process';

const GROUPS = 8;
const PER_GROUP = 20;
const SENDERS_PER_GROUP = 2;
const RATE = Number(process.env.BENCH_RATE ?? 1500);
const FIXED_MS = Number(process.env.BENCH_SECONDS ?? 8) * 1000;
const LIGHT_RATE = Number(process.env.BENCH_LIGHT_RATE ?? 300);
const LIGHT_MS = 6000;
const WARMUP_MS = 4000;
const SATURATE_MS = 8000;
const IN_FLIGHT = 8 * GROUPS;
const TIME_LIMIT_MS = 150_000;
const SECRET = 'fanout-bench-secret-that-is-long-enough-0123456789';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;

interface BenchUser {
  id: string;
  token: string;
  username: string;
  displayName: string;
  photoUrl: string;
}

/** A run's result with the CPU ms each process spent per message. */
type Measured = RunResult & { cpu: { server: number; postgres: number; client: number } | null };

/** Sends message `n` to `group`; resolves when every subscriber has it (and, for ours, the mutation returned). */
type Sender = (n: number, group: number, run: Run) => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const body = (n: number) => `Message ${n}: are we still on for dinner on Friday? I can book the place near the station.`;

class Bench {
  readonly service = new ServiceProcess('bench');
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
  groups: Array<{ id: string; members: BenchUser[] }> = [];

  async start(): Promise<void> {
    await this.service.start({ jwtSecret: SECRET, cpuProfileDir: process.env.BENCH_CPU_PROF });
    this.api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
    const raw = fork(path.join(__dirname, 'raw-server.js'), [], { env: { PATH: process.env.PATH, DATABASE_URL: this.service.databaseUrl }, stdio: 'inherit' });
    this.raw = raw;
    this.rawPort = new Promise<number>((resolve, reject) => {
      raw.once('message', (m: { t: string; port: number }) => (m.t === 'ready' ? resolve(m.port) : reject(new Error('raw server failed'))));
      raw.once('exit', () => reject(new Error('raw server exited')));
    });
    this.rawPort.catch(() => undefined);
  }

  /** 160 users with profiles, 8 groups of 20 members, the AI switched off in each. */
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
    this.groups = await Promise.all(
      range(GROUPS).map(async (g) => {
        const members = users.slice(g * PER_GROUP, (g + 1) * PER_GROUP);
        const r = await this.api.request<{ createGroup: { id: string } }>(members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
          i: { title: `Bench group ${g}`, memberUsernames: members.slice(1).map((m) => m.username) },
        });
        // This measures message fan-out: the AI participant stays out (post-delivery moderation still runs).
        await this.api.request(members[0].token, `mutation($g: ID!) { updateGroup(groupId: $g, input: { aiMode: OFF }) { id } }`, { g: r.createGroup.id });
        return { id: r.createGroup.id, members };
      }),
    );
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

  /** One graphql-ws client per member of every group, and the same number of raw sockets. */
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
    for (const g of range(GROUPS)) {
      for (const _ of range(PER_GROUP)) this.rawSockets.push(await rawSubscriber(`ws://127.0.0.1:${rawPort}/?g=${g}`, this.hooks(g, this.rawPayloads, null)));
    }
  }

  readonly ours = (prefix: string): Sender => (n, group, run) => {
    const { id, members } = this.groups[group];
    const author = members[Math.floor(n / GROUPS) % SENDERS_PER_GROUP];
    const cmid = `ours-${prefix}-${n}`;
    const t0 = now();
    const delivered = run.expect(cmid, t0);
    const sent = this.api.request(author.token, SEND, { i: { groupId: id, body: body(n), clientMessageId: cmid } }).catch((err) => {
      if (run.failures++ === 0) console.error('sendMessage failed:', String(err));
      run.abandon(cmid);
    });
    return Promise.all([delivered, sent]).then(() => undefined);
  };

  readonly baseline = (prefix: string): Sender => (n, group, run) => {
    const { id, members } = this.groups[group];
    const a = members[Math.floor(n / GROUPS) % SENDERS_PER_GROUP];
    const cmid = `raw-${prefix}-${n}`;
    const delivered = run.expect(cmid, NaN);
    const cmd: RawSend = {
      t: 'send',
      group,
      groupId: id,
      cmid,
      body: body(n),
      author: { id: a.id, username: a.username, displayName: a.displayName, photoUrl: a.photoUrl },
    };
    this.raw!.send(cmd);
    return delivered;
  };

  /** The baseline stamps INSERT starts in its own process; fetch them into the run. */
  async collectBaselineStarts(run: Run): Promise<void> {
    const starts = await new Promise<Array<[string, number]>>((resolve) => {
      this.raw!.once('message', (m: { starts: Array<[string, number]> }) => resolve(m.starts));
      this.raw!.send({ t: 'report' } satisfies RawCommand);
    });
    for (const [cmid, t0] of starts) run.setStart(cmid, t0);
  }

  private cpu(): CpuSample | null {
    return cpuSample(this.service.pid!, this.raw!.pid!, this.service.dataDir);
  }

  async measure(send: Sender, load: (send: Sender, run: Run) => Promise<void>, baseline: boolean): Promise<Measured> {
    const run = new Run(PER_GROUP);
    const cpuBefore = this.cpu();
    this.current = run;
    await load(send, run);
    await run.drain(5000);
    // An overloaded run leaves a backlog: it counts (late deliveries, CPU), and must not spill into the next run.
    const loaded = Date.now();
    while (Date.now() - this.lastFrame < 500 && Date.now() - loaded < 20_000) await sleep(100);
    this.current = null;
    const cpu = cpuDelta(cpuBefore, this.cpu());
    if (baseline) await this.collectBaselineStarts(run);
    const result = run.result();
    return { ...result, cpu: cpu && { server: (baseline ? cpu.raw : cpu.service) / result.sent, postgres: cpu.postgres / result.sent, client: cpu.bench / result.sent } };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.dispose()));
    for (const s of this.rawSockets) s.terminate();
    this.api?.close();
    // The baseline holds PostgreSQL connections: it goes before the database does.
    await stopChild(this.raw, (raw) => raw.send({ t: 'stop' } satisfies RawCommand));
    await this.service.stop();
  }
}

/** Open loop: message n goes out at n / rate seconds, whatever happened to the ones before. */
const fixedRate = (rate: number, ms: number) => async (send: Sender, run: Run) => {
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
const saturate = (inFlight: number, ms: number) => async (send: Sender, run: Run) => {
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

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const pad = (s: string, n: number) => s.padStart(n);

const LABEL = 40;
const cpuCells = (r: Measured) => (r.cpu ? [r.cpu.server, r.cpu.postgres, r.cpu.client].map((ms) => pad(fmt(ms * 1000, 0), 9)).join('') : pad('n/a', 9));

function row(label: string, r: Measured): string {
  const pct = r.expected ? ((100 * r.delivered) / r.expected).toFixed(2) : '0';
  return `${label.padEnd(LABEL)}${pad(fmt(r.p50, 2), 9)}${pad(fmt(r.p99, 2), 9)}${pad(fmt(r.max, 0), 9)}${pad(int(r.perSecond), 14)}${pad(`${pct}%`, 10)}  ${cpuCells(r)}`;
}

const ratioRow = (ours: Measured, raw: Measured) =>
  `${'  ratio ours / raw'.padEnd(LABEL)}${[ours.p50 / raw.p50, ours.p99 / raw.p99, ours.max / raw.max].map((x) => pad(fmt(x, 2) + 'x', 9)).join('')}${pad(fmt(ours.perSecond / raw.perSecond, 2) + 'x', 14)}`;

const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

interface Tier {
  rate: number;
  ms: number;
  ours: Measured;
  raw: Measured;
  /** Subscription executions (execute + JSON.stringify) the service counted during `ours`. */
  executions: number;
  handed: number;
  identical: number;
}

/** The same fixed-rate load through the raw baseline, then through the service. */
async function compare(bench: Bench, name: string, rate: number, ms: number): Promise<Tier> {
  const counters = () => Promise.all([bench.service.metric('roundtable_subscription_executions_total'), bench.service.metric('roundtable_group_events_delivered_total')]);
  // The baseline goes first: a backlog the service may be left with must not run into it.
  const raw = await bench.measure(bench.baseline(name), fixedRate(rate, ms), true);
  const [exec0, handed0] = await counters();
  const identical0 = bench.oursPayloads.identical;
  const ours = await bench.measure(bench.ours(name), fixedRate(rate, ms), false);
  const [exec1, handed1] = await counters();
  const identical = bench.oursPayloads.identical - identical0;
  return { rate, ms, ours, raw, executions: exec1 - exec0, handed: handed1 - handed0, identical };
}

interface Report {
  load: string;
  target: Tier;
  light: Tier;
  oursMax: Measured;
  rawMax: Measured;
  seconds: number;
}

/** The printed table; returns whether every correctness check passed. */
function report(bench: Bench, { load, target, light, oursMax, rawMax, seconds }: Report): boolean {
  const gaps = bench.order.reduce((s, o) => s + o.gaps, 0);
  const dups = bench.order.reduce((s, o) => s + o.duplicates, 0);
  const sum = (f: (t: Tier) => number) => f(target) + f(light);
  const sent = sum((t) => t.ours.sent);
  const executions = sum((t) => t.executions);
  const handed = sum((t) => t.handed);
  /** Events the feed dispatched (each handed to every subscriber of its group). */
  const dispatched = handed / PER_GROUP;
  const failures = target.ours.failures + light.ours.failures + oursMax.failures;
  const head =
    `${''.padEnd(LABEL)}${pad('p50', 9)}${pad('p99', 9)}${pad('max', 9)}${pad('deliveries/s', 14)}${pad('delivered', 10)}` +
    `  ${pad('server', 9)}${pad('postgres', 9)}${pad('client', 9)}`;
  const line = '-'.repeat(head.length);
  const tier = (title: string, ours: Measured, raw: Measured) => [title, row('  Roundtable (HTTP -> graphql-ws)', ours), row('  Raw baseline (pg INSERT -> ws)', raw), ratioRow(ours, raw)];
  const offered = (t: Tier) => `${int(t.rate)} messages/s = ${int(t.rate * PER_GROUP)} deliveries/s offered for ${t.ms / 1000} s (open loop)`;
  const ratio = (t: Tier, k: 'p50' | 'p99') => t.ours[k] / t.raw[k];
  const latencyTarget = (k: 'p50' | 'p99', limit: number) =>
    `Target ${k} <= ${limit}x raw at the target load:  ${fmt(ratio(target, k), 2)}x  ${verdict(ratio(target, k) <= limit)}` +
    `   (at the light load: ${fmt(ratio(light, k), 2)}x ${verdict(ratio(light, k) <= limit)})`;
  console.log(
    [
      '',
      `Roundtable fan-out bench: ${GROUPS} groups x ${PER_GROUP} subscribers = ${GROUPS * PER_GROUP} graphql-ws clients (and as many raw ws sockets), ` +
        `${GROUPS * SENDERS_PER_GROUP} senders, AI participant off; ${os.cpus().length} cores, load average at start ${load}.`,
      `Latency: from the start of the sendMessage call (raw: of the INSERT) to receipt at each subscriber. deliveries/s: receipts while the load ran.`,
      `CPU: us per message used by the server process, all PostgreSQL processes, and this load generator with all its subscribers.`,
      line,
      `${''.padEnd(LABEL)}${pad('latency, ms', 27)}${''.padEnd(24)}  ${pad('CPU us per message', 27)}`,
      head,
      line,
      ...tier(`At the target load: ${offered(target)}`, target.ours, target.raw),
      ...tier(`At a light load, for latency: ${offered(light)}`, light.ours, light.raw),
      ...tier(`Max sustainable: closed loop, ${IN_FLIGHT} messages in flight, each waiting for all ${PER_GROUP} deliveries, for ${SATURATE_MS / 1000} s`, oursMax, rawMax),
      line,
      `Serialized once per event: the service executed and stringified ${int(executions)} results for the ${int(dispatched)} events it ` +
        `handed to ${int(handed)} subscriptions (${fmt(executions / dispatched, 2)} per event); ${int(sum((t) => t.identical))} of ${int(sent)} sent ` +
        `arrived byte-identical at all ${PER_GROUP} subscribers of their group, ${bench.oursPayloads.mismatched} differed.`,
      `Order: ${gaps} gaps and ${dups} duplicates in seq across ${GROUPS * PER_GROUP} subscribers; ${failures} failed sends; ${bench.subscriberErrors.length} subscription errors.`,
      line,
      latencyTarget('p50', 2),
      latencyTarget('p99', 3),
      `Target >= 30,000 deliveries/s sustained:  ${int(target.ours.perSecond)}/s at the target load, ${int(oursMax.perSecond)}/s max  ` +
        verdict(target.ours.perSecond >= 30_000 && target.ours.delivered === target.ours.expected),
      `(bench took ${fmt(seconds, 0)} s)`,
    ].join('\n'),
  );
  return gaps === 0 && dups === 0 && bench.oursPayloads.mismatched === 0 && executions <= dispatched && bench.subscriberErrors.length === 0;
}

void runBench(new Bench(), TIME_LIMIT_MS, async (bench, load) => {
  const started = Date.now();
  await bench.start();
  await bench.seed();
  await bench.connect();
  await bench.measure(bench.ours('warm'), fixedRate(400, WARMUP_MS), false);
  await bench.measure(bench.baseline('warm'), fixedRate(400, WARMUP_MS / 2), true);
  const light = await compare(bench, 'light', LIGHT_RATE, LIGHT_MS);
  const rawMax = await bench.measure(bench.baseline('max'), saturate(IN_FLIGHT, SATURATE_MS), true);
  const oursMax = await bench.measure(bench.ours('max'), saturate(IN_FLIGHT, SATURATE_MS), false);
  // Last: if the service cannot keep up with the target load, its backlog delays nothing else.
  const target = await compare(bench, 'target', RATE, FIXED_MS);
  return report(bench, { load, target, light, oursMax, rawMax, seconds: (Date.now() - started) / 1000 });
});
