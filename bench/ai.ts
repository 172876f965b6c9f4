/**
 * `npm run bench:ai`: the latency the service adds to streamed AI replies. Every round,
 * one member of each of 16 groups mentions the AI at the same moment, so 16 replies
 * stream concurrently from the loopback OpenAI-compatible fake; 3 members of every
 * group follow along over graphql-ws.
 *
 * The fake provider and the subscribers share this process, so the fake's
 * `performance.now()` stamps (first and last token written) compare directly with the
 * receipts. The service runs in a child process (dist/api/src/main.js on a throwaway
 * embedded PostgreSQL) so its event loop is its own. Measured per subscriber receipt:
 * provider first token -> first AI_DELTA frame, and provider last token -> AI_COMPLETED;
 * both are the service's added latency. Provider timings of the same run sit beside them.
 *
 * Two raw baselines (raw-ai-server.ts, one process of its own) stream the same replies from
 * the same fake to plain `ws` sockets. Both take the member's message over HTTP from the same
 * client, timed from the same point as the service's sendMessage, and store it with the
 * service's own send statement (on groups of their own). The minimal one then does by hand
 * only what cannot be left out: the AI message row, the provider request and SSE parsing,
 * the same delta batching, the final text committed before the completed event. The other
 * does the service's work by hand, with the service's statements and pure functions and none
 * of its framework: the job enqueued with the message, the classifier on the message, the
 * reply's setting read, the unit reserved with the STREAMING message, the job completed, the
 * prompt built, the reply streamed and scored, the message ended and its response settled.
 * Issue 13's targets are ratios to the baseline doing the same work; the minimal one's ratios
 * are printed beside them. Rounds rotate between the three arms, so all see the same machine.
 * Issue 11's job hop comes from the service's roundtable_ai_job_wait_seconds histogram, over
 * the measured rounds.
 *
 * Env: BENCH_AI_GROUPS (concurrent replies, 16), BENCH_AI_ROUNDS (10), BENCH_AI_WARMUP_ROUNDS
 * (8: PostgreSQL plans a prepared statement afresh for its first five runs on each of the
 * pool's 20 connections, then reuses a generic plan), BENCH_AI_TOKENS
 * (tokens per reply, 200), BENCH_AI_CHUNK_MS (delay between tokens, 2),
 * BENCH_AI_FIRST_TOKEN_MS (model "thinking" before the first token, 10), BENCH_CPU_PROF
 * (a directory: CPU profile of the service).
 */
import { ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { signDevToken } from '../api/src/auth/jwt';
import { loadConfig } from '../api/src/config/env';
import { FakeOpenAI, RecordedRequest } from '../tests/support/fake-openai';
import { cpuDelta, cpuSample, CpuSample, CpuUse } from './cpu-usage';
import { GraphqlHttp, graphqlWsSubscriber, JsonHttp, rawSubscriber, Subscriber, SubscriberHooks } from './fanout-clients';
import type { RawAiCommand, RawReply } from './raw-ai-server';
import { runBench, ServiceProcess, stopChild } from './service-process';

const GROUPS = Number(process.env.BENCH_AI_GROUPS ?? 16);
const SUBSCRIBERS = 3;
const ROUNDS = Number(process.env.BENCH_AI_ROUNDS ?? 10);
const WARMUP_ROUNDS = Number(process.env.BENCH_AI_WARMUP_ROUNDS ?? 8);
const TOKENS = Number(process.env.BENCH_AI_TOKENS ?? 200);
const CHUNK_MS = Number(process.env.BENCH_AI_CHUNK_MS ?? 2);
const FIRST_TOKEN_MS = Number(process.env.BENCH_AI_FIRST_TOKEN_MS ?? 10);
const ROUND_TIMEOUT_MS = 20_000;
const TIME_LIMIT_MS = 110_000;
const SECRET = 'ai-bench-secret-that-is-long-enough-0123456789';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;
const SELECTION = `seq type message { id kind status } delta { messageId text offset }`;
const MARKER = /\[bench g(\d+) r(-?\d+)\]/;
/** The service's AI_QUOTA for plus (1h) and AI_REPLY_LEASE_MS, which the same-work baseline applies too. */
const QUOTA = { max: 100_000, windowMs: 3_600_000 };
const LEASE_MS = 30_000;

/** Who answers a round: the service, the minimal raw baseline, or the raw baseline doing the service's work. */
type Arm = 'service' | 'raw' | 'same';

const WORDS = ['We', ' could', ' meet', ' at', ' the', ' station', ' café', ' around', ' seven,', ' then', ' walk', ' to', ' the', ' river', ' for', ' dinner.'];
const REPLY = Array.from({ length: TOKENS }, (_, i) => WORDS[i % WORDS.length]);
const REPLY_TEXT = REPLY.join('');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface BenchEvent {
  seq: number | null;
  type: string;
  message: { id: string; kind: string; status: string } | null;
  delta: { messageId: string; text: string; offset: number } | null;
}

/** One AI reply: its trigger, the provider request that served it, and every subscriber's receipts. */
class Reply {
  request: RecordedRequest | null = null;
  readonly firstDelta: number[] = [];
  readonly completed: number[] = [];
  readonly statuses: string[] = [];
  /** Text reassembled from the deltas, per subscriber. */
  readonly text: string[] = range(SUBSCRIBERS).map(() => '');
  readonly deltas: number[] = range(SUBSCRIBERS).map(() => 0);
  sentAt = NaN;
  private resolve!: () => void;
  readonly done = new Promise<void>((r) => (this.resolve = r));

  constructor(
    readonly group: number,
    readonly round: number,
  ) {}

  onEvent(sub: number, e: BenchEvent, t: number): void {
    if (e.type === 'AI_DELTA' && e.delta) {
      if (e.delta.offset === 0) this.firstDelta.push(t);
      if (e.delta.offset === this.text[sub].length) this.text[sub] += e.delta.text;
      else this.text[sub] += '\u0000'; // out of order or missing: fails the reassembly check
      this.deltas[sub]++;
    } else if (e.type === 'AI_COMPLETED' && e.message?.kind === 'AI') {
      this.completed.push(t);
      this.statuses.push(e.message.status);
      if (this.completed.length === SUBSCRIBERS) this.resolve();
    }
  }
}

interface Member {
  id: string;
  token: string;
  username: string;
}

class Bench {
  readonly service = new ServiceProcess('bench-ai');
  private readonly clients: Subscriber[] = [];
  private raw: ChildProcess | null = null;
  private readonly rawSockets: WebSocket[] = [];
  readonly subscriberErrors: unknown[] = [];
  fake!: FakeOpenAI;
  api!: GraphqlHttp;
  groups: Array<{ id: string; members: Member[] }> = [];
  rawGroups: Array<{ id: string; members: Member[] }> = [];
  sameGroups: Array<{ id: string; members: Member[] }> = [];
  private rawHttp: JsonHttp | null = null;
  /** The reply under way in each group. */
  current: Array<Reply | null> = range(GROUPS).map(() => null);

  async start(): Promise<void> {
    this.fake = await FakeOpenAI.start();
    this.fake.onChat(() => ({ chunks: REPLY, firstChunkDelayMs: FIRST_TOKEN_MS, chunkDelayMs: CHUNK_MS }));
    await this.service.start({
      jwtSecret: SECRET,
      env: { OPENAI_BASE_URL: this.fake.baseUrl, OPENAI_API_KEY: 'bench', AI_QUOTA: `plus=${QUOTA.max}/1h`, AI_REPLY_LEASE_MS: String(LEASE_MS) },
      cpuProfileDir: process.env.BENCH_CPU_PROF,
    });
    this.api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
  }

  /** The raw baseline's process, on the service's database and the same fake, with the service's batching settings. */
  async startRaw(): Promise<number> {
    const { deltaFlushMs, deltaFlushChars } = loadConfig({ NODE_ENV: 'test' }).ai;
    const raw = fork(path.join(__dirname, 'raw-ai-server.js'), [], {
      env: { PATH: process.env.PATH, DATABASE_URL: this.service.databaseUrl, PROVIDER_URL: this.fake.baseUrl, FLUSH_MS: String(deltaFlushMs), FLUSH_CHARS: String(deltaFlushChars) },
      stdio: 'inherit',
    });
    this.raw = raw;
    return new Promise<number>((resolve, reject) => {
      raw.once('message', (m: { t: string; port: number }) => (m.t === 'ready' ? resolve(m.port) : reject(new Error('raw baseline failed'))));
      raw.once('exit', () => reject(new Error('raw baseline exited')));
    });
  }

  /**
   * 48 adult plus-plan users with profiles in 16 groups of 3, for the service; copies of the
   * groups for the minimal baseline; and 48 more users in groups of their own for the
   * same-work baseline, whose replies are charged (their quota usage is not the service's).
   */
  async seed(): Promise<void> {
    const members = (arm: string) =>
      Promise.all(
        range(GROUPS * SUBSCRIBERS).map(async (i): Promise<Member> => {
          const token = await signDevToken(SECRET, { sub: `bench-ai-${arm}-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
          const username = `bench_ai_${arm}_${i}`;
          const input = { displayName: `Bench user ${i}`, username, photoUrl: `https://example.test/${username}.png` };
          const r = await this.api.request<{ upsertProfile: { id: string } }>(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: input });
          return { id: r.upsertProfile.id, token, username };
        }),
      );
    let users = await members('s');
    const groups = (title: string) =>
      Promise.all(
        range(GROUPS).map(async (g) => {
          const members = users.slice(g * SUBSCRIBERS, (g + 1) * SUBSCRIBERS);
          const r = await this.api.request<{ createGroup: { id: string } }>(members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
            i: { title: `${title} ${g}`, memberUsernames: members.slice(1).map((m) => m.username) },
          });
          return { id: r.createGroup.id, members };
        }),
      );
    this.groups = await groups('AI bench group');
    // The raw baseline's messages go to copies of the groups: the service's own groups, their seqs and histories, stay the service's.
    this.rawGroups = await groups('AI bench raw copy');
    users = await members('w');
    this.sameGroups = await groups('AI bench same-work');
  }

  async connect(): Promise<void> {
    const wsUrl = `ws://127.0.0.1:${this.service.port}/graphql`;
    for (const [g, group] of this.groups.entries()) {
      for (const [s, m] of group.members.entries()) {
        this.clients.push(graphqlWsSubscriber(wsUrl, m.token, group.id, this.hooks(g, s), SELECTION));
      }
    }
    await this.service.waitForSubscriptions(GROUPS * SUBSCRIBERS, this.subscriberErrors);
    const rawPort = await this.startRaw();
    this.rawHttp = new JsonHttp(`http://127.0.0.1:${rawPort}`);
    for (const g of range(GROUPS)) for (const s of range(SUBSCRIBERS)) this.rawSockets.push(await rawSubscriber(`ws://127.0.0.1:${rawPort}/?g=${g}`, this.hooks(g, s)));
  }

  private hooks(g: number, s: number): SubscriberHooks {
    return {
      group: g,
      onFrame: () => undefined,
      // Stamped on performance.now(), the fake provider's clock, in the same call as receipt.
      onEvent: (e: unknown) => this.current[g]?.onEvent(s, e as BenchEvent, performance.now()),
      onError: (err: unknown) => this.subscriberErrors.push(err),
    };
  }

  /**
   * All groups mention the AI at once (or, `raw`, the baseline is asked for the same
   * replies); resolves when every subscriber has every reply's AI_COMPLETED.
   */
  async round(round: number, arm: Arm = 'service'): Promise<Reply[]> {
    const replies = range(GROUPS).map((g) => new Reply(g, round));
    this.current = replies;
    const seen = this.fake.chatRequests().length;
    await Promise.all(
      replies.map((reply) => {
        const { id, members } = this.groups[reply.group];
        const body = `@AI could you suggest where we meet on Friday evening? [bench g${reply.group} r${round}]`;
        reply.sentAt = performance.now();
        const clientMessageId = `ai-${round}-${reply.group}`;
        if (arm === 'same') {
          const group = this.sameGroups[reply.group];
          const send: RawReply = { group: reply.group, groupId: group.id, authorId: group.members[0].id, clientMessageId, prompt: body, work: 'same', quota: QUOTA, jobDelayMs: LEASE_MS };
          return this.rawHttp!.post<{ error?: string }>('/reply', send).then(({ status, json }) => {
            if (status !== 200) throw new Error(`raw baseline: ${status} ${json.error ?? ''}`);
          });
        }
        if (arm === 'raw') {
          const copy = this.rawGroups[reply.group].id;
          const send: RawReply = { group: reply.group, groupId: copy, authorId: members[0].id, clientMessageId, prompt: body };
          return this.rawHttp!.post<{ error?: string }>('/reply', send).then(({ status, json }) => {
            if (status !== 200) throw new Error(`raw baseline: ${status} ${json.error ?? ''}`);
          });
        }
        return this.api.request(members[0].token, SEND, { i: { groupId: id, body, clientMessageId } });
      }),
    );
    const timeout = sleep(ROUND_TIMEOUT_MS).then(() => 'timeout' as const);
    if ((await Promise.race([Promise.all(replies.map((r) => r.done)), timeout])) === 'timeout') {
      const missing = replies.filter((r) => r.completed.length < SUBSCRIBERS).length;
      throw new Error(`round ${round}: ${missing} of ${GROUPS} replies did not complete at every subscriber within ${ROUND_TIMEOUT_MS / 1000} s`);
    }
    this.current = range(GROUPS).map(() => null);
    for (const req of this.fake.chatRequests().slice(seen)) {
      const m = MARKER.exec(lastUserContent(req.body));
      if (m && Number(m[2]) === round) replies[Number(m[1])].request = req;
    }
    return replies;
  }

  /** CPU so far of the service, the raw baseline, PostgreSQL and this process (fake provider and subscribers). */
  cpu(): CpuSample | null {
    return cpuSample(this.service.pid!, this.raw?.pid ?? 0, this.service.dataDir);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.dispose()));
    for (const s of this.rawSockets) s.terminate();
    await stopChild(this.raw, (raw) => raw.send({ t: 'stop' } satisfies RawAiCommand));
    this.api?.close();
    this.rawHttp?.close();
    await this.service.stop();
    await this.fake?.stop();
  }
}

function lastUserContent(body: unknown): string {
  const messages = (body as { messages?: Array<{ role: string; content: unknown }> })?.messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(values: number[]): Stats {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const pct = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] : NaN);
  return { n: v.length, p50: pct(50), p99: pct(99), max: v.length ? v[v.length - 1] : NaN };
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const pad = (s: string, n: number) => s.padStart(n);
const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
const LABEL = 54;
const row = (label: string, s: Stats) => `${label.padEnd(LABEL)}${pad(String(s.n), 8)}${pad(fmt(s.p50), 9)}${pad(fmt(s.p99), 9)}${pad(fmt(s.max), 9)}`;

/** One side's replies (the service's or the baseline's), measured. */
interface Side {
  replies: Reply[];
  ttft: Stats;
  streaming: Stats;
  first: Stats;
  last: Stats;
  toProvider: Stats;
  frames: Stats;
  /** Replies COMPLETED at every subscriber, matched to a provider request, reassembled intact. */
  completed: number;
  served: number;
  intact: number;
}

function measure(replies: Reply[]): Side {
  const served = replies.filter((r) => r.request?.firstTokenAt !== undefined && r.request.lastTokenAt !== undefined);
  return {
    replies,
    ttft: stats(served.map((r) => r.request!.firstTokenAt! - r.request!.receivedAt)),
    streaming: stats(served.map((r) => r.request!.lastTokenAt! - r.request!.firstTokenAt!)),
    first: stats(served.flatMap((r) => r.firstDelta.map((t) => t - r.request!.firstTokenAt!))),
    last: stats(served.flatMap((r) => r.completed.map((t) => t - r.request!.lastTokenAt!))),
    toProvider: stats(served.map((r) => r.request!.receivedAt - r.sentAt)),
    frames: stats(replies.flatMap((r) => r.deltas)),
    completed: replies.filter((r) => r.statuses.length === SUBSCRIBERS && r.statuses.every((s) => s === 'COMPLETED')).length,
    served: served.length,
    intact: replies.reduce((n, r) => n + r.text.filter((t) => t === REPLY_TEXT).length, 0),
  };
}

const ratioRow = (label: string, a: Stats, b: Stats) => `${label.padEnd(LABEL + 8)}${pad(fmt(a.p50 / b.p50) + 'x', 9)}${pad(fmt(a.p99 / b.p99) + 'x', 9)}${pad(fmt(a.max / b.max) + 'x', 9)}`;

/** roundtable_ai_job_wait_seconds from the service's /metrics: cumulative bucket counts by path and bound. */
type JobWaits = Map<string, Map<number, number>>;

async function jobWaits(port: number): Promise<JobWaits> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: JobWaits = new Map();
  for (const m of text.matchAll(/^roundtable_ai_job_wait_seconds_bucket\{([^}]*)\} (\d+)/gm)) {
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    const path = /path="(\w+)"/.exec(m[1])?.[1];
    if (le === undefined || path === undefined) continue;
    const byLe = out.get(path) ?? new Map<number, number>();
    byLe.set(le === '+Inf' ? Infinity : Number(le), Number(m[2]));
    out.set(path, byLe);
  }
  return out;
}

/** The measured rounds' job waits (after minus before), all paths: count per path, and the bucket bound the median falls in. */
function jobWaitMedian(before: JobWaits, after: JobWaits): { counts: Record<string, number>; p50: number } {
  const cumulative = new Map<number, number>();
  const counts: Record<string, number> = {};
  for (const [path, byLe] of after) {
    for (const [le, n] of byLe) cumulative.set(le, (cumulative.get(le) ?? 0) + n - (before.get(path)?.get(le) ?? 0));
    counts[path] = (byLe.get(Infinity) ?? 0) - (before.get(path)?.get(Infinity) ?? 0);
  }
  const total = cumulative.get(Infinity) ?? 0;
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const p50 = total === 0 ? NaN : bounds.find((le) => cumulative.get(le)! >= total / 2)!;
  return { counts, p50 };
}

interface Cpu {
  service: CpuUse | null;
  raw: CpuUse | null;
  same: CpuUse | null;
}

/** The printed table; returns whether every correctness check passed. */
function report(bench: Bench, sides: Record<Arm, Side>, cpu: Cpu, hop: { counts: Record<string, number>; p50: number }, load: string, seconds: number): boolean {
  const { service: ours, same, raw } = sides;
  const n = ours.replies.length;
  const perReply = (ms: number | undefined) => fmt((ms ?? NaN) / n, 1);
  const head = `${''.padEnd(LABEL)}${pad('samples', 8)}${pad('p50', 9)}${pad('p99', 9)}${pad('max', 9)}`;
  const line = '-'.repeat(head.length);
  const x = (a: number, b: number) => a / b;
  const startRatio = x(ours.toProvider.p50, same.toProvider.p50);
  const doneP50 = x(ours.last.p50, same.last.p50);
  const doneP99 = x(ours.last.p99, same.last.p99);
  const checks = (name: string, side: Side) =>
    `${name}: ${side.completed}/${n} replies COMPLETED at every subscriber; ${side.served}/${n} matched to a provider request; ` +
    `deltas reassembled to the full text at ${side.intact}/${n * SUBSCRIBERS} subscriber receipts.`;
  const arms = (title: string, k: 'toProvider' | 'first' | 'last') => [title, row('  service', ours[k]), row('  raw, same work', same[k]), row('  raw, minimal', raw[k])];
  const hopCounts = Object.entries(hop.counts).map(([path, c]) => `${path} ${c}`).join(', ') || 'none';
  console.log(
    [
      '',
      `Roundtable AI streaming bench: ${GROUPS} groups x ${SUBSCRIBERS} graphql-ws subscribers; ${GROUPS} concurrent replies per round x ${ROUNDS} rounds = ${n} replies;`,
      `${TOKENS} tokens per reply, ${CHUNK_MS} ms apart, first after ${FIRST_TOKEN_MS} ms; ${os.cpus().length} cores, load average at start ${load}.`,
      `Rounds rotate between the service and two raw baselines (plain ws sockets, ${SUBSCRIBERS} per group): one doing the service's work by hand`,
      `(same statements, job, quota, classifier, prompt; no framework), one doing the minimum (message row, stream, final text).`,
      `Clock: performance.now() of this process, shared by the fake provider and the subscribers. Added latency: per subscriber receipt.`,
      line,
      `${head}   (ms)`,
      line,
      'Provider (loopback fake), per reply: service / raw same work / raw minimal',
      row('  request received -> first token written', ours.ttft),
      row('', same.ttft),
      row('', raw.ttft),
      row('  first token -> last token written', ours.streaming),
      row('', same.streaming),
      row('', raw.streaming),
      ...arms('sendMessage over HTTP (same client) -> provider request received', 'toProvider'),
      ...arms('Provider first token -> first AI_DELTA frame, at every subscriber', 'first'),
      ...arms('Provider last token -> AI_COMPLETED frame, at every subscriber', 'last'),
      'Ratios, service / raw same work',
      ratioRow('  sendMessage -> provider request', ours.toProvider, same.toProvider),
      ratioRow('  first delta', ours.first, same.first),
      ratioRow('  completion', ours.last, same.last),
      'Ratios, service / raw minimal',
      ratioRow('  sendMessage -> provider request', ours.toProvider, raw.toProvider),
      ratioRow('  first delta', ours.first, raw.first),
      ratioRow('  completion', ours.last, raw.last),
      'For context',
      row('  AI_DELTA frames per reply per subscriber (count)', ours.frames),
      row('  (raw: delta frames per reply per socket, same work)', same.frames),
      `  CPU per reply, ms: service ${perReply(cpu.service?.service)}, its PostgreSQL ${perReply(cpu.service?.postgres)}, this process ${perReply(cpu.service?.bench)};`,
      `    raw same work ${perReply(cpu.same?.raw)}, its PostgreSQL ${perReply(cpu.same?.postgres)}, this process ${perReply(cpu.same?.bench)};`,
      `    raw minimal ${perReply(cpu.raw?.raw)}, its PostgreSQL ${perReply(cpu.raw?.postgres)}, this process ${perReply(cpu.raw?.bench)}`,
      `  ai.respond jobs of the service's measured rounds by path: ${hopCounts} (roundtable_ai_job_wait_seconds)`,
      line,
      `Target (issue 13) sendMessage -> provider request p50 <= 2x raw doing the same work: ${fmt(startRatio)}x  ${verdict(startRatio <= 2)}` +
        `   (against the minimal baseline: ${fmt(x(ours.toProvider.p50, raw.toProvider.p50))}x)`,
      `Target (issue 13) completion p50 <= 1.5x and p99 <= 2x raw doing the same work: ${fmt(doneP50)}x, ${fmt(doneP99)}x  ${verdict(doneP50 <= 1.5 && doneP99 <= 2)}` +
        `   (against the minimal baseline: ${fmt(x(ours.last.p50, raw.last.p50))}x, ${fmt(x(ours.last.p99, raw.last.p99))}x)`,
      `Target (issue 11) the job hop adds <= 2 ms p50: a job's commit -> its start, p50 <= ${fmt(hop.p50 * 1000, 1)} ms (histogram bucket)  ${verdict(hop.p50 <= 0.002)}`,
      checks('Checks, service', ours),
      checks('Checks, raw same work', same),
      checks('Checks, raw minimal', raw),
      `${bench.subscriberErrors.length} subscription errors. (bench took ${fmt(seconds, 0)} s)`,
    ].join('\n'),
  );
  const ok = (side: Side) => side.completed === n && side.served === n && side.intact === n * SUBSCRIBERS;
  return ok(ours) && ok(raw) && ok(same) && bench.subscriberErrors.length === 0;
}

/** Adds the CPU used between two samples to a running total. */
function addCpu(total: CpuUse | null, use: CpuUse | null): CpuUse | null {
  if (!use) return total;
  if (!total) return use;
  return { service: total.service + use.service, raw: total.raw + use.raw, postgres: total.postgres + use.postgres, bench: total.bench + use.bench };
}

const ARMS: Arm[] = ['raw', 'same', 'service'];

void runBench(new Bench(), TIME_LIMIT_MS, async (bench, load) => {
  const started = Date.now();
  await bench.start();
  await bench.seed();
  await bench.connect();
  // Warm-up, not measured: until every pooled connection has run each statement often
  // enough for PostgreSQL to settle on a cached plan, as in a service that has been up a while.
  for (const r of range(WARMUP_ROUNDS)) for (const arm of ARMS) await bench.round(-1 - r, arm);
  const replies: Record<Arm, Reply[]> = { service: [], raw: [], same: [] };
  const cpu: Cpu = { service: null, raw: null, same: null };
  const hopBefore = await jobWaits(bench.service.port);
  for (const r of range(ROUNDS)) {
    // Each round starts with another arm, so that none always follows the same one.
    for (const k of range(ARMS.length)) {
      const arm = ARMS[(r + k) % ARMS.length];
      const before = bench.cpu();
      replies[arm].push(...(await bench.round(r, arm)));
      cpu[arm] = addCpu(cpu[arm], cpuDelta(before, bench.cpu()));
    }
  }
  const hop = jobWaitMedian(hopBefore, await jobWaits(bench.service.port));
  const sides = { service: measure(replies.service), raw: measure(replies.raw), same: measure(replies.same) };
  return report(bench, sides, cpu, hop, load, (Date.now() - started) / 1000);
});
