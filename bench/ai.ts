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
 * Env: BENCH_AI_GROUPS (concurrent replies, 16), BENCH_AI_ROUNDS (10), BENCH_AI_TOKENS
 * (tokens per reply, 200), BENCH_AI_CHUNK_MS (delay between tokens, 2),
 * BENCH_AI_FIRST_TOKEN_MS (model "thinking" before the first token, 10), BENCH_CPU_PROF
 * (a directory: CPU profile of the service).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { signDevToken } from '../api/src/auth/jwt';
import { FakeOpenAI, RecordedRequest } from '../tests/support/fake-openai';
import { cpuDelta, cpuSample, CpuSample, CpuUse } from './cpu-usage';
import { GraphqlHttp, graphqlWsSubscriber, Subscriber } from './fanout-clients';
import { runBench, ServiceProcess } from './service-process';

const GROUPS = Number(process.env.BENCH_AI_GROUPS ?? 16);
const SUBSCRIBERS = 3;
const ROUNDS = Number(process.env.BENCH_AI_ROUNDS ?? 10);
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
  token: string;
  username: string;
}

class Bench {
  readonly service = new ServiceProcess('bench-ai');
  private readonly clients: Subscriber[] = [];
  readonly subscriberErrors: unknown[] = [];
  fake!: FakeOpenAI;
  api!: GraphqlHttp;
  groups: Array<{ id: string; members: Member[] }> = [];
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

  /** 48 adult plus-plan users with profiles, 16 groups of 3. */
  async seed(): Promise<void> {
    const users = await Promise.all(
      range(GROUPS * SUBSCRIBERS).map(async (i): Promise<Member> => {
        const token = await signDevToken(SECRET, { sub: `bench-ai-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
        const username = `bench_ai_${i}`;
        const input = { displayName: `Bench user ${i}`, username, photoUrl: `https://example.test/${username}.png` };
        await this.api.request(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: input });
        return { token, username };
      }),
    );
    this.groups = await Promise.all(
      range(GROUPS).map(async (g) => {
        const members = users.slice(g * SUBSCRIBERS, (g + 1) * SUBSCRIBERS);
        const r = await this.api.request<{ createGroup: { id: string } }>(members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
          i: { title: `AI bench group ${g}`, memberUsernames: members.slice(1).map((m) => m.username) },
        });
        return { id: r.createGroup.id, members };
      }),
    );
  }

  async connect(): Promise<void> {
    const wsUrl = `ws://127.0.0.1:${this.service.port}/graphql`;
    for (const [g, group] of this.groups.entries()) {
      for (const [s, m] of group.members.entries()) {
        const hooks = {
          group: g,
          onFrame: () => undefined,
          // Stamped on performance.now(), the fake provider's clock, in the same call as receipt.
          onEvent: (e: unknown) => this.current[g]?.onEvent(s, e as BenchEvent, performance.now()),
          onError: (err: unknown) => this.subscriberErrors.push(err),
        };
        this.clients.push(graphqlWsSubscriber(wsUrl, m.token, group.id, hooks, SELECTION));
      }
    }
    await this.service.waitForSubscriptions(GROUPS * SUBSCRIBERS, this.subscriberErrors);
  }

  /** All groups mention the AI at once; resolves when every subscriber has every reply's AI_COMPLETED. */
  async round(round: number): Promise<Reply[]> {
    const replies = range(GROUPS).map((g) => new Reply(g, round));
    this.current = replies;
    const seen = this.fake.chatRequests().length;
    await Promise.all(
      replies.map((reply) => {
        const { id, members } = this.groups[reply.group];
        const body = `@AI could you suggest where we meet on Friday evening? [bench g${reply.group} r${round}]`;
        reply.sentAt = performance.now();
        return this.api.request(members[0].token, SEND, { i: { groupId: id, body, clientMessageId: `ai-${round}-${reply.group}` } });
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

  /** CPU so far of the service, PostgreSQL and this process (fake provider and subscribers). */
  cpu(): CpuSample | null {
    return cpuSample(this.service.pid!, 0, this.service.dataDir);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.dispose()));
    this.api?.close();
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

/** The printed table; returns whether every correctness check passed. */
function report(bench: Bench, replies: Reply[], cpu: CpuUse | null, load: string, seconds: number): boolean {
  const served = replies.filter((r) => r.request?.firstTokenAt !== undefined && r.request.lastTokenAt !== undefined);
  const ttft = stats(served.map((r) => r.request!.firstTokenAt! - r.request!.receivedAt));
  const streaming = stats(served.map((r) => r.request!.lastTokenAt! - r.request!.firstTokenAt!));
  const first = stats(served.flatMap((r) => r.firstDelta.map((t) => t - r.request!.firstTokenAt!)));
  const last = stats(served.flatMap((r) => r.completed.map((t) => t - r.request!.lastTokenAt!)));
  const toProvider = stats(served.map((r) => r.request!.receivedAt - r.sentAt));
  const frames = stats(replies.flatMap((r) => r.deltas));
  const completed = replies.filter((r) => r.statuses.length === SUBSCRIBERS && r.statuses.every((s) => s === 'COMPLETED')).length;
  const intact = replies.reduce((n, r) => n + r.text.filter((t) => t === REPLY_TEXT).length, 0);
  const expected = replies.length * SUBSCRIBERS;

  const perReply = (ms: number | undefined) => fmt((ms ?? NaN) / replies.length, 1);
  const head = `${''.padEnd(LABEL)}${pad('samples', 8)}${pad('p50', 9)}${pad('p99', 9)}${pad('max', 9)}`;
  const line = '-'.repeat(head.length);
  const p50ok = first.p50 <= TARGET_P50_MS && last.p50 <= TARGET_P50_MS;
  const p99ok = first.p99 <= TARGET_P99_MS && last.p99 <= TARGET_P99_MS;
  console.log(
    [
      '',
      `Roundtable AI streaming bench: ${GROUPS} groups x ${SUBSCRIBERS} graphql-ws subscribers; ${GROUPS} concurrent replies per round x ${ROUNDS} rounds = ${replies.length} replies;`,
      `${TOKENS} tokens per reply, ${CHUNK_MS} ms apart, first after ${FIRST_TOKEN_MS} ms; ${os.cpus().length} cores, load average at start ${load}.`,
      `Clock: performance.now() of this process, shared by the fake provider and the subscribers. Added latency: per subscriber receipt.`,
      line,
      `${head}   (ms)`,
      line,
      'Provider (loopback fake), same run, per reply',
      row('  request received -> first token written', ttft),
      row('  first token -> last token written', streaming),
      'Added by the service, at every subscriber',
      row('  provider first token -> first AI_DELTA frame', first),
      row('  provider last token -> AI_COMPLETED frame', last),
      'For context',
      row('  sendMessage sent -> provider request received', toProvider),
      row('  AI_DELTA frames per reply per subscriber (count)', frames),
      `  CPU per reply: service ${perReply(cpu?.service)} ms, PostgreSQL ${perReply(cpu?.postgres)} ms, this process (provider + subscribers) ${perReply(cpu?.bench)} ms`,
      line,
      `Target added p50 <= ${TARGET_P50_MS} ms:  first token ${fmt(first.p50)}, completion ${fmt(last.p50)}  ${verdict(p50ok)}`,
      `Target added p99 <= ${TARGET_P99_MS} ms: first token ${fmt(first.p99)}, completion ${fmt(last.p99)}  ${verdict(p99ok)}`,
      `Checks: ${completed}/${replies.length} replies COMPLETED at every subscriber; ${served.length}/${replies.length} matched to a provider request; ` +
        `deltas reassembled to the full text at ${intact}/${expected} subscriber receipts; ${bench.subscriberErrors.length} subscription errors.`,
      `(bench took ${fmt(seconds, 0)} s)`,
    ].join('\n'),
  );
  return completed === replies.length && served.length === replies.length && intact === expected && bench.subscriberErrors.length === 0;
}

void runBench(new Bench(), TIME_LIMIT_MS, async (bench, load) => {
  const started = Date.now();
  await bench.start();
  await bench.seed();
  await bench.connect();
  await bench.round(-1); // warm-up, not measured
  const replies: Reply[] = [];
  const before = bench.cpu();
  for (const r of range(ROUNDS)) replies.push(...(await bench.round(r)));
  return report(bench, replies, cpuDelta(before, bench.cpu()), load, (Date.now() - started) / 1000);
});
