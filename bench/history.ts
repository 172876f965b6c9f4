/**
 * `npm run bench:history`: a page of history from a group of 100,000 messages, through the
 * service against a raw baseline doing the same work (bench/raw-history-server.ts), in
 * alternating rounds. Pages of 100: the newest, and deep (`before` 200 pages back). Each
 * arm is a closed loop of 16 members, each with one request in flight, for a few seconds.
 * The service runs with the per-user cost rate lifted: this measures the page, not the
 * rate limit. Targets (issue 13): >= 0.5x raw requests/s at both depths, p99 <= 3x raw.
 *
 * Env: BENCH_HISTORY_MESSAGES (100000), BENCH_SECONDS (5 per arm and round), BENCH_ROUNDS (2).
 */
import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import { signDevToken } from '../api/src/auth/jwt';
import { GraphqlHttp } from './fanout-clients';
import { runBench, ServiceProcess, stopChild } from './service-process';

const MESSAGES = Number(process.env.BENCH_HISTORY_MESSAGES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS = 16;
const PAGE = 100;
const DEEP_PAGES = 200;
const SECRET = 'history-bench-secret-that-is-long-enough-0123456789';
const QUERY = `query($g: ID!, $before: String) { messages(groupId: $g, first: ${PAGE}, before: $before) {
  edges { node { id seq body status author { id username displayName } reactions { emoji } } } pageInfo { hasPreviousPage hasNextPage } } }`;

interface Member {
  id: string;
  token: string;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

class HistoryBench {
  readonly service = new ServiceProcess('bench-history');
  private raw: ChildProcess | null = null;
  private rawPool: Pool | null = null;
  private api: GraphqlHttp | null = null;
  groupId = '';
  members: Member[] = [];

  async start(): Promise<void> {
    await this.service.start({
      jwtSecret: SECRET,
      env: { GRAPHQL_COST_PER_SECOND_PER_USER: '100000000', GRAPHQL_COST_BURST_PER_USER: '100000000' },
    });
    this.api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
    this.raw = fork(path.join(__dirname, 'raw-history-server.js'), [], { env: { PATH: process.env.PATH, DATABASE_URL: this.service.databaseUrl }, stdio: 'inherit' });
    const port = await new Promise<number>((resolve) => this.raw!.once('message', (m: { port: number }) => resolve(m.port)));
    this.rawPool = new Pool(`http://127.0.0.1:${port}`, { connections: CLIENTS * 2 });
  }

  /** 16 members with profiles, one group, and MESSAGES messages written straight into it. */
  async seed(): Promise<void> {
    this.members = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const token = await signDevToken(SECRET, { sub: `history-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
        const username = `history_${i}`;
        const r = await this.api!.request<{ upsertProfile: { id: string } }>(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, {
          i: { displayName: `History ${i}`, username, photoUrl: `https://example.test/${username}.png` },
        });
        return { id: r.upsertProfile.id, token };
      }),
    );
    const created = await this.api!.request<{ createGroup: { id: string } }>(this.members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
      i: { title: 'History bench', memberUsernames: this.members.slice(1).map((_, i) => `history_${i + 1}`) },
    });
    this.groupId = created.createGroup.id;
    const db = new PgPool({ connectionString: this.service.databaseUrl, max: 1 });
    try {
      await db.query(
        `WITH base AS (SELECT last_seq FROM groups WHERE id = $1)
         INSERT INTO messages (group_id, seq, kind, author_id, body, status, client_message_id)
         SELECT $1, base.last_seq + s, 'USER', ($2::uuid[])[1 + s % cardinality($2::uuid[])], 'History message number ' || s || ', with a few words of chat.', 'SENT', 'h' || s
           FROM base, generate_series(1, $3) AS s`,
        [this.groupId, this.members.map((m) => m.id), MESSAGES],
      );
      await db.query(`UPDATE groups SET last_seq = (SELECT max(seq) FROM messages WHERE group_id = $1) WHERE id = $1`, [this.groupId]);
      await db.query(`ANALYZE messages`);
    } finally {
      await db.end();
    }
  }

  async lastSeq(): Promise<number> {
    const r = await this.api!.request<{ messages: { edges: Array<{ node: { seq: number } }> } }>(this.members[0].token, QUERY, { g: this.groupId });
    return r.messages.edges.at(-1)!.node.seq;
  }

  /** One arm: every member keeps one request in flight for SECONDS. */
  async arm(kind: 'service' | 'raw', before: number | null): Promise<Result> {
    const latencies: number[] = [];
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      this.members.map(async (m) => {
        while (performance.now() < end) {
          const t = performance.now();
          if (kind === 'service') {
            const r = await this.api!.request<{ messages: { edges: unknown[] } }>(m.token, QUERY, { g: this.groupId, before: before === null ? null : String(before) });
            if (r.messages.edges.length !== PAGE) throw new Error('the service returned a short page');
          } else {
            const { body, statusCode } = await this.rawPool!.request({ path: `/?g=${this.groupId}&u=${m.id}${before === null ? '' : `&before=${before}`}`, method: 'GET' });
            const json = (await body.json()) as { messages: unknown[] };
            if (statusCode !== 200 || json.messages.length !== PAGE) throw new Error('the raw server returned a short page');
          }
          latencies.push(performance.now() - t);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    return { rps: latencies.length / SECONDS, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
  }

  async stop(): Promise<void> {
    this.api?.close();
    await this.rawPool?.close();
    await stopChild(this.raw, (child) => child.send('stop'));
    await this.service.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

void runBench(new HistoryBench(), 15 * 60_000, async (bench, load) => {
  await bench.start();
  await bench.seed();
  const newest = await bench.lastSeq();
  const deep = newest - DEEP_PAGES * PAGE;
  const depths: Array<[string, number | null]> = [
    ['newest', null],
    [`deep (before ${deep})`, deep],
  ];
  console.log(`Roundtable history bench: one group of ${MESSAGES.toLocaleString('en')} messages, pages of ${PAGE}, ${CLIENTS} members each with one request in flight, ${SECONDS} s per arm, ${ROUNDS} alternating rounds; load average at start ${load}.`);
  // Warm both: plans, caches, connections.
  for (const [, before] of depths) {
    await bench.arm('service', before);
    await bench.arm('raw', before);
  }
  let met = true;
  console.log(`${''.padEnd(28)}${'requests/s'.padStart(12)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
  for (const [name, before] of depths) {
    const runs: Record<'service' | 'raw', Result[]> = { service: [], raw: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 === 0 ? (['service', 'raw'] as const) : (['raw', 'service'] as const)) runs[kind].push(await bench.arm(kind, before));
    }
    const m = (kind: 'service' | 'raw') => ({ rps: median(runs[kind].map((r) => r.rps)), p50: median(runs[kind].map((r) => r.p50)), p99: median(runs[kind].map((r) => r.p99)) });
    const s = m('service');
    const r = m('raw');
    console.log(name);
    for (const [label, x] of [['  Roundtable (GraphQL)', s], ['  raw (SQL + JSON over http)', r]] as const) {
      console.log(`${label.padEnd(28)}${x.rps.toFixed(0).padStart(12)}${x.p50.toFixed(2).padStart(10)}${x.p99.toFixed(2).padStart(10)}`);
    }
    const rpsRatio = s.rps / r.rps;
    const p99Ratio = s.p99 / r.p99;
    console.log(`  ratio ours / raw: requests/s ${rpsRatio.toFixed(2)}x, p50 ${(s.p50 / r.p50).toFixed(2)}x, p99 ${p99Ratio.toFixed(2)}x`);
    console.log(`  Target requests/s >= 0.5x raw: ${rpsRatio.toFixed(2)}x ${rpsRatio >= 0.5 ? 'MET' : 'NOT MET'};  p99 <= 3x raw: ${p99Ratio.toFixed(2)}x ${p99Ratio <= 3 ? 'MET' : 'NOT MET'}`);
    met &&= rpsRatio >= 0.5 && p99Ratio <= 3;
  }
  console.log(met ? 'Every target MET.' : 'Not every target is met.');
  return true;
});
