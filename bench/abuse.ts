/**
 * `npm run bench:abuse`: what a few abusive users do to everyone else. Eight users ask
 * for their `group(id)`, each about ten times a second, first with the service at rest,
 * then while a few other users flood it with the most expensive document the limits
 * allow, as fast as the service answers (each abuser keeps more requests open than it
 * has turns). Prints the victims' latency (p50, p99) in both phases and the ratio; the
 * target is p99 under the flood within 3x of p99 at rest.
 *
 * The flood's document is picked in the run: each candidate (one page of 100 messages
 * with every field, ten pages of history at once, ten root fields of lists) is checked
 * to pass the limits, timed alone, and the slowest is the one used.
 *
 * The service runs as a child process on a throwaway embedded PostgreSQL (service-process.ts).
 * Env: BENCH_ABUSERS (3), BENCH_ABUSER_CONCURRENCY (24 requests each kept open),
 * BENCH_SECONDS (per phase, 15), BENCH_SERVICE_ENV ("NAME=value,..." for the service,
 * e.g. "MAX_OPERATIONS_IN_FLIGHT_PER_USER=2").
 */
import os from 'node:os';
import { Pool } from 'undici';
import { signDevToken } from '../api/src/auth/jwt';
import { runBench, ServiceProcess } from './service-process';

const ABUSERS = Number(process.env.BENCH_ABUSERS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_ABUSER_CONCURRENCY ?? 24);
const PHASE_MS = Number(process.env.BENCH_SECONDS ?? 15) * 1000;
const WARMUP_MS = 3000;
const MESSAGES = 100;
const VICTIMS = 8;
/** Each victim asks about 10 times a second: well within its own cost per second. */
const VICTIM_PAUSE_MS = 100;
const TIME_LIMIT_MS = 300_000;
const SECRET = 'abuse-bench-secret-that-is-long-enough-0123456789';

const VICTIM_QUERY = `query($id: ID!) { group(id: $id) { id title memberCount lastSeq aiMode members { role user { id username displayName photoUrl } } myMembership { unreadCount lastReadSeq } } }`;

const NODE = `id seq kind body status statusReason replyToId clientMessageId mentionsAi editedAt deletedAt createdAt groupId
  author { id username displayName photoUrl } mentions { id username displayName photoUrl }
  reactions { emoji byAi createdAt user { id username displayName photoUrl } }
  modelResponse { model routeReason chargedUser { id } promptTokens completionTokens latencyMs status }`;

/** Candidates for the most expensive document the limits allow ($g: the abuser's group). */
const CANDIDATES: Record<string, string> = {
  'one page of 100 messages, every field': `query($g: ID!) { messages(groupId: $g, first: 100) { edges { cursor node { ${NODE} } } pageInfo { hasPreviousPage hasNextPage } } }`,
  'ten pages of 9 messages, every field': `query($g: ID!) { ${Array.from({ length: 10 }, (_, i) => `p${i}: messages(groupId: $g, first: 9) { edges { node { ${NODE} } } }`).join(' ')} }`,
  'ten pages of 100 message ids': `query($g: ID!) { ${Array.from({ length: 10 }, (_, i) => `p${i}: messages(groupId: $g, first: 100, before: "${1000 + i}") { edges { node { id } } }`).join(' ')} }`,
  'ten root lists': `query($g: ID!) { me { id quota { used remaining } } group(id: $g) { members { user { id username } } myMembership { unreadCount } }
    groups(first: 20) { edges { node { id members { user { id } } myMembership { unreadCount } } } } memories { id text }
    conversations(first: 20) { id messages(first: 20) { id body } } m1: messages(groupId: $g, first: 50) { edges { node { id body author { id } } } }
    m2: messages(groupId: $g, first: 50, before: "50") { edges { node { id body } } } m3: messages(groupId: $g, first: 20, after: "10") { edges { node { id } } }
    g2: group(id: $g) { id title } m4: messages(groupId: $g, first: 10) { edges { cursor } } }`,
};

interface Reply {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; cost?: number } }> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n: number, d = 1) => n.toFixed(d);

class Bench {
  readonly service = new ServiceProcess('abuse');
  private pool!: Pool;
  private path = '/graphql';

  async start(): Promise<void> {
    const env = Object.fromEntries(
      (process.env.BENCH_SERVICE_ENV ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
    await this.service.start({ jwtSecret: SECRET, env });
    this.pool = new Pool(`http://127.0.0.1:${this.service.port}`, { connections: ABUSERS * CONCURRENCY + 8 });
  }

  async request(token: string, query: string, variables: Record<string, unknown> = {}): Promise<Reply> {
    const { statusCode, body } = await this.pool.request({
      path: this.path,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: statusCode, body: (await body.json()) as Reply['body'] };
  }

  async ok<T = any>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.request(token, query, variables);
    if (r.status !== 200 || r.body.errors?.length) throw new Error(`${r.status} ${JSON.stringify(r.body.errors ?? r.body).slice(0, 500)}`);
    return r.body.data as T;
  }

  /** A user with a profile, in a group of `size` members (the AI off), with `messages` messages. */
  async userWithGroup(name: string, size: number, messages: number): Promise<{ token: string; groupId: string }> {
    const members = await Promise.all(
      range(size).map(async (i) => {
        const token = await signDevToken(SECRET, { sub: `${name}-${i}-${process.pid}`, plan: 'plus', region: 'DE', age: 'adult' });
        const username = `${name}_${i}`;
        await this.ok(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: { displayName: `${name} ${i}`, username, photoUrl: `https://example.test/${username}.png` } });
        return { token, username };
      }),
    );
    const owner = members[0].token;
    const { createGroup } = await this.ok(owner, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
      i: { title: `${name}'s group`, memberUsernames: members.slice(1).map((m) => m.username) },
    });
    await this.ok(owner, `mutation($g: ID!) { updateGroup(groupId: $g, input: { aiMode: OFF }) { id } }`, { g: createGroup.id });
    for (const n of range(messages)) {
      const author = members[n % members.length];
      const mention = n % 3 === 0 ? ` @${members[(n + 1) % members.length].username}` : '';
      await this.ok(author.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, {
        i: { groupId: createGroup.id, body: `Message ${n}: shall we meet at the station at seven?${mention}`, clientMessageId: `${name}-${n}` },
      });
    }
    return { token: owner, groupId: createGroup.id };
  }

  /** Each victim asks for its group(id) in turn, with a pause, for `ms`: the latency of each, in ms. */
  async victims(victims: Array<{ token: string; groupId: string }>, ms: number): Promise<{ latencies: number[]; failures: number }> {
    const latencies: number[] = [];
    let failures = 0;
    const end = Date.now() + ms;
    await Promise.all(
      victims.map(async ({ token, groupId }, i) => {
        await sleep((i * VICTIM_PAUSE_MS) / victims.length);
        while (Date.now() < end) {
          const t0 = performance.now();
          const r = await this.request(token, VICTIM_QUERY, { id: groupId });
          const t = performance.now() - t0;
          if (r.status === 200 && !r.body.errors) latencies.push(t);
          else if (failures++ === 0) console.error('group(id) failed:', r.status, JSON.stringify(r.body).slice(0, 300));
          await sleep(VICTIM_PAUSE_MS);
        }
      }),
    );
    return { latencies: latencies.sort((a, b) => a - b), failures };
  }

  /** Median time of `document` alone, over `n` sequential requests; throws if the limits refuse it. */
  async timeAlone(token: string, groupId: string, document: string, n = 3): Promise<number> {
    const times: number[] = [];
    for (const _ of range(n)) {
      const t0 = performance.now();
      await this.ok(token, document, { g: groupId });
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[Math.floor(n / 2)];
  }

  /** Each abuser keeps `CONCURRENCY` requests of `document` open until `stop` says so. */
  flood(abusers: Array<{ token: string; groupId: string }>, document: string, stop: { done: boolean }) {
    const counts = { served: 0, refused: 0, other: 0 };
    const loops = abusers.flatMap((a) =>
      range(CONCURRENCY).map(async () => {
        while (!stop.done) {
          const r = await this.request(a.token, document, { g: a.groupId });
          if (r.status === 200 && !r.body.errors) counts.served++;
          else if (r.status === 429) counts.refused++;
          else if (counts.other++ === 0) console.error('flood request failed:', r.status, JSON.stringify(r.body).slice(0, 300));
        }
      }),
    );
    return { counts, done: Promise.all(loops) };
  }

  async stop(): Promise<void> {
    await this.pool?.close();
    await this.service.stop();
  }
}

void runBench(new Bench(), TIME_LIMIT_MS, async (bench, load) => {
  const started = Date.now();
  await bench.start();
  const victims = await Promise.all(range(VICTIMS).map((i) => bench.userWithGroup(`victim${i}`, 5, 5)));
  const abusers = await Promise.all(range(ABUSERS).map((i) => bench.userWithGroup(`abuser${i}`, 5, MESSAGES)));
  // Timed alone by users of their own, in a group like the abusers': the abusers start the flood with full buckets.
  const probes = await Promise.all(Object.keys(CANDIDATES).map((_, i) => bench.userWithGroup(`probe${i}`, 5, MESSAGES)));

  // The most expensive document the limits allow: each candidate must pass, the slowest alone wins.
  const timed: Array<{ name: string; ms: number }> = [];
  for (const [i, [name, document]] of Object.entries(CANDIDATES).entries()) timed.push({ name, ms: await bench.timeAlone(probes[i].token, probes[i].groupId, document) });
  const worst = timed.reduce((a, b) => (b.ms > a.ms ? b : a));

  await bench.victims(victims, WARMUP_MS);
  const rest = await bench.victims(victims, PHASE_MS);

  const stop = { done: false };
  const flood = bench.flood(abusers, CANDIDATES[worst.name], stop);
  await sleep(WARMUP_MS);
  const before = { ...flood.counts };
  const floodStarted = Date.now();
  const loaded = await bench.victims(victims, PHASE_MS);
  const floodSeconds = (Date.now() - floodStarted) / 1000;
  const after = { ...flood.counts };
  stop.done = true;
  await flood.done;

  const row = (label: string, r: { latencies: number[]; failures: number }) =>
    `${label.padEnd(30)}${fmt(pct(r.latencies, 50), 2).padStart(10)}${fmt(pct(r.latencies, 99), 2).padStart(10)}${String(r.latencies.length).padStart(10)}${String(r.failures).padStart(10)}`;
  const ratio50 = pct(loaded.latencies, 50) / pct(rest.latencies, 50);
  const ratio99 = pct(loaded.latencies, 99) / pct(rest.latencies, 99);
  const line = '-'.repeat(70);
  console.log(
    [
      `bench:abuse: ${VICTIMS} users' group(id), each ~${Math.round(1000 / VICTIM_PAUSE_MS)}/s, at rest and while ${ABUSERS} other users flood the service (${CONCURRENCY} requests each kept open)`,
      `${os.cpus().length} cores, load average at start ${load}; service, PostgreSQL and this load generator share them.`,
      `Documents the limits allow, alone (median ms): ${timed.map((t) => `${t.name} ${fmt(t.ms)}`).join('; ')}.`,
      `The flood: "${worst.name}".${process.env.BENCH_SERVICE_ENV ? ` Service settings: ${process.env.BENCH_SERVICE_ENV}.` : ''}`,
      line,
      `${'group(id)'.padEnd(30)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'requests'.padStart(10)}${'failed'.padStart(10)}`,
      line,
      row('at rest', rest),
      row('under the flood', loaded),
      `${'ratio (flood / rest)'.padEnd(30)}${fmt(ratio50, 2).padStart(10)}${fmt(ratio99, 2).padStart(10)}`,
      line,
      `The flood meanwhile: ${fmt((after.served - before.served) / floodSeconds, 0)} documents/s served, ${fmt((after.refused - before.refused) / floodSeconds, 0)}/s refused (RATE_LIMITED, 429), ${after.other} other failures.`,
      `Target: p99 under the flood within 3x of p99 at rest: ${fmt(ratio99, 2)}x  ${ratio99 <= 3 ? 'PASS' : 'FAIL'}`,
      `(bench took ${fmt((Date.now() - started) / 1000, 0)} s)`,
    ].join('\n'),
  );
  return rest.failures === 0 && loaded.failures === 0 && after.other === 0;
});
