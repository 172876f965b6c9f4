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
 * A raw baseline (raw-ai-server.ts, its own process) streams the same replies from the
 * same fake to its own plain `ws` sockets, doing by hand only what cannot be left out:
 * the member's message, sent over HTTP by the same client and timed from the same point
 * as the service's sendMessage, and stored with the service's own send statement (on
 * copies of the groups); the AI message row, the provider request and SSE parsing, the
 * same delta batching, the final text committed before the completed event. No queue,
 * quota, moderation or prompt. Its rounds alternate with the service's, so both see the
 * same machine; the table gives the ratio of the two.
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
const TARGET_P50_MS = 2;
const TARGET_P99_MS = 10;
const SECRET = 'ai-bench-secret-that-is-long-enough-0123456789';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;
const SELECTION = `seq type message { id kind status } delta { messageId text offset }`;
const MARKER = /\[bench g(\d+) r(-?\d+)\]/;

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
  private rawHttp: JsonHttp | null = null;
  /** The reply under way in each group. */
  current: Array<Reply | null> = range(GROUPS).map(() => null);

  async start(): Promise<void> {
    this.fake = await FakeOpenAI.start();
    this.fake.onChat(() => ({ chunks: REPLY, firstChunkDelayMs: FIRST_TOKEN_MS, chunkDelayMs: CHUNK_MS }));
    await this.service.start({
      jwtSecret: SECRET,
      env: { OPENAI_BASE_URL: this.fake.baseUrl, OPENAI_API_KEY: 'bench', AI_QUOTA: 'plus=100000/1h' },
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

  /** 48 adult plus-plan users with profiles, 16 groups of 3. */
  async seed(): Promise<void> {
    const users = await Promise.all(
      range(GROUPS * SUBSCRIBERS).map(async (i): Promise<Member> => {
        const token = await signDevToken(SECRET, { sub: `bench-ai-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
        const username = `bench_ai_${i}`;
        const input = { displayName: `Bench user ${i}`, username, photoUrl: `https://example.test/${username}.png` };
        const r = await this.api.request<{ upsertProfile: { id: string } }>(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: input });
        return { id: r.upsertProfile.id, token, username };
      }),
    );
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
  async round(round: number, raw = false): Promise<Reply[]> {
    const replies = range(GROUPS).map((g) => new Reply(g, round));
    this.current = replies;
    const seen = this.fake.chatRequests().length;
    await Promise.all(
      replies.map((reply) => {
        const { id, members } = this.groups[reply.group];
        const body = `@AI could you suggest where we meet on Friday evening? [bench g${reply.group} r${round}]`;
        reply.sentAt = performance.now();
        const clientMessageId = `ai-${round}-${reply.group}`;
        if (raw) {
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

const ratio = (a: Stats, b: Stats) => `${''.padEnd(LABEL + 8)}${pad(fmt(a.p50 / b.p50) + 'x', 9)}${pad(fmt(a.p99 / b.p99) + 'x', 9)}${pad(fmt(a.max / b.max) + 'x', 9)}`;

/** The printed table; returns whether every correctness check passed. */
function report(bench: Bench, ours: Side, raw: Side, cpu: { ours: CpuUse | null; raw: CpuUse | null }, load: string, seconds: number): boolean {
  const n = ours.replies.length;
  const perReply = (ms: number | undefined) => fmt((ms ?? NaN) / n, 1);
  const head = `${''.padEnd(LABEL)}${pad('samples', 8)}${pad('p50', 9)}${pad('p99', 9)}${pad('max', 9)}`;
  const line = '-'.repeat(head.length);
  const meets = (side: Side, limit: number, k: 'p50' | 'p99') => side.first[k] <= limit && side.last[k] <= limit;
  const target = (k: 'p50' | 'p99', limit: number) =>
    `Target added ${k} <= ${limit} ms:${k === 'p50' ? ' ' : ''} first token ${fmt(ours.first[k])}, completion ${fmt(ours.last[k])}  ${verdict(meets(ours, limit, k))}` +
    `   (raw baseline: ${fmt(raw.first[k])}, ${fmt(raw.last[k])}  ${verdict(meets(raw, limit, k))})`;
  const checks = (name: string, side: Side) =>
    `${name}: ${side.completed}/${n} replies COMPLETED at every subscriber; ${side.served}/${n} matched to a provider request; ` +
    `deltas reassembled to the full text at ${side.intact}/${n * SUBSCRIBERS} subscriber receipts.`;
  console.log(
    [
      '',
      `Roundtable AI streaming bench: ${GROUPS} groups x ${SUBSCRIBERS} graphql-ws subscribers; ${GROUPS} concurrent replies per round x ${ROUNDS} rounds = ${n} replies;`,
      `${TOKENS} tokens per reply, ${CHUNK_MS} ms apart, first after ${FIRST_TOKEN_MS} ms; ${os.cpus().length} cores, load average at start ${load}.`,
      `Each round of the service alternates with the same round through the raw baseline (plain ws sockets, ${SUBSCRIBERS} per group).`,
      `Clock: performance.now() of this process, shared by the fake provider and the subscribers. Added latency: per subscriber receipt.`,
      line,
      `${head}   (ms)`,
      line,
      'Provider (loopback fake), per reply: service rounds / baseline rounds',
      row('  request received -> first token written', ours.ttft),
      row('', raw.ttft),
      row('  first token -> last token written', ours.streaming),
      row('', raw.streaming),
      'Added by the service, at every subscriber',
      row('  provider first token -> first AI_DELTA frame', ours.first),
      row('  provider last token -> AI_COMPLETED frame', ours.last),
      'Added by the raw baseline (same replies by hand), at every socket',
      row('  provider first token -> first delta frame', raw.first),
      row('  provider last token -> completed frame', raw.last),
      'Ratio service / raw baseline',
      `  first delta${ratio(ours.first, raw.first).slice(13)}`,
      `  completion${ratio(ours.last, raw.last).slice(12)}`,
      'For context',
      row('  sendMessage sent -> provider request received', ours.toProvider),
      row('  (baseline: its sendMessage over HTTP -> provider request)', raw.toProvider),
      row('  AI_DELTA frames per reply per subscriber (count)', ours.frames),
      row('  (baseline: delta frames per reply per socket)', raw.frames),
      `  CPU per reply: service ${perReply(cpu.ours?.service)} ms, PostgreSQL ${perReply(cpu.ours?.postgres)} ms, this process (provider + subscribers) ${perReply(cpu.ours?.bench)} ms`,
      `  (baseline rounds: raw process ${perReply(cpu.raw?.raw)} ms, PostgreSQL ${perReply(cpu.raw?.postgres)} ms, this process ${perReply(cpu.raw?.bench)} ms)`,
      line,
      target('p50', TARGET_P50_MS),
      target('p99', TARGET_P99_MS),
      checks('Checks, service', ours),
      checks('Checks, baseline', raw),
      `${bench.subscriberErrors.length} subscription errors. (bench took ${fmt(seconds, 0)} s)`,
    ].join('\n'),
  );
  const ok = (side: Side) => side.completed === n && side.served === n && side.intact === n * SUBSCRIBERS;
  return ok(ours) && ok(raw) && bench.subscriberErrors.length === 0;
}

/** Adds the CPU used between two samples to a running total. */
function addCpu(total: CpuUse | null, use: CpuUse | null): CpuUse | null {
  if (!use) return total;
  if (!total) return use;
  return { service: total.service + use.service, raw: total.raw + use.raw, postgres: total.postgres + use.postgres, bench: total.bench + use.bench };
}

void runBench(new Bench(), TIME_LIMIT_MS, async (bench, load) => {
  const started = Date.now();
  await bench.start();
  await bench.seed();
  await bench.connect();
  // Warm-up, not measured: until every pooled connection has run each statement often
  // enough for PostgreSQL to settle on a cached plan, as in a service that has been up a while.
  for (const r of range(WARMUP_ROUNDS)) {
    await bench.round(-1 - r, true);
    await bench.round(-1 - r);
  }
  const ours: Reply[] = [];
  const raw: Reply[] = [];
  const cpu: { ours: CpuUse | null; raw: CpuUse | null } = { ours: null, raw: null };
  for (const r of range(ROUNDS)) {
    let before = bench.cpu();
    raw.push(...(await bench.round(r, true)));
    cpu.raw = addCpu(cpu.raw, cpuDelta(before, bench.cpu()));
    before = bench.cpu();
    ours.push(...(await bench.round(r)));
    cpu.ours = addCpu(cpu.ours, cpuDelta(before, bench.cpu()));
  }
  return report(bench, measure(ours), measure(raw), cpu, load, (Date.now() - started) / 1000);
});
