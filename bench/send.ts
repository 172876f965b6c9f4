/**
 * `npm run bench:send`: what one sendMessage costs the service over HTTP and over
 * graphql-ws (issue 13: clients with a socket open, such as Apollo Client's split link,
 * send their mutations there, so that path must cost no more). Sixteen members of 8 groups
 * send at a fixed rate, through undici's pool or each over its own graphql-ws connection,
 * in alternating rounds; nobody subscribes, so the figure is the send path alone. Printed:
 * the service's and PostgreSQL's CPU per message and the latency per send, medians over
 * the rounds, and the target "graphql-ws <= HTTP" in service CPU.
 *
 * Env: BENCH_RATE (sends/s, 400), BENCH_SECONDS (per round, 6), BENCH_ROUNDS (3).
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { signDevToken } from '../api/src/auth/jwt';
import { cpuDelta, cpuSample } from './cpu-usage';
import { GraphqlHttp } from './fanout-clients';
import { runBench, ServiceProcess } from './service-process';

const GROUPS = 8;
const SENDERS = 16;
const RATE = Number(process.env.BENCH_RATE ?? 400);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = 'send-bench-secret-that-is-long-enough-0123456789';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;

type Transport = 'http' | 'ws';

interface Sender {
  token: string;
  groupId: string;
}

interface RoundResult {
  serviceUs: number;
  postgresUs: number;
  p50: number;
  p99: number;
  failures: number;
}

/** One graphql-ws connection that runs operations and resolves each at its `complete`. */
class WsOperations {
  private next = 0;
  private readonly pending = new Map<string, { resolve(): void; reject(err: Error): void; failed: boolean }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { id?: string; type: string; payload?: { errors?: unknown[] } | unknown[] };
      if (frame.type === 'ping') return socket.send('{"type":"pong"}');
      const op = frame.id ? this.pending.get(frame.id) : undefined;
      if (!op) return;
      if (frame.type === 'next' && (frame.payload as { errors?: unknown[] }).errors) op.failed = true;
      if (frame.type === 'error') op.failed = true;
      if (frame.type === 'complete' || frame.type === 'error') {
        this.pending.delete(frame.id!);
        if (op.failed) op.reject(new Error(`operation failed: ${JSON.stringify(frame.payload ?? '').slice(0, 300)}`));
        else op.resolve();
      }
    });
  }

  static open(url: string, token: string): Promise<WsOperations> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.once('message', (data) => {
        if (JSON.parse(String(data)).type === 'connection_ack') resolve(new WsOperations(socket));
        else reject(new Error(`no connection_ack: ${String(data).slice(0, 200)}`));
      });
    });
  }

  run(query: string, variables: Record<string, unknown>): Promise<void> {
    const id = String(++this.next);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, failed: false });
      this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

class SendBench {
  readonly service = new ServiceProcess('bench-send');
  api!: GraphqlHttp;
  senders: Sender[] = [];
  sockets: WsOperations[] = [];

  async start(): Promise<void> {
    await this.service.start({ jwtSecret: SECRET, env: { GRAPHQL_COST_PER_SECOND_PER_USER: '100000000', GRAPHQL_COST_BURST_PER_USER: '100000000' } });
    this.api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
  }

  /** 8 groups of 2 members; each member sends to their group. */
  async seed(): Promise<void> {
    const users = await Promise.all(
      Array.from({ length: SENDERS }, async (_, i) => {
        const token = await signDevToken(SECRET, { sub: `send-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
        const username = `send_${i}`;
        await this.api.request(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, {
          i: { displayName: `Sender ${i}`, username, photoUrl: `https://example.test/${username}.png` },
        });
        return { token, username };
      }),
    );
    for (let g = 0; g < GROUPS; g++) {
      const [a, b] = [users[2 * g], users[2 * g + 1]];
      const r = await this.api.request<{ createGroup: { id: string } }>(a.token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
        i: { title: `Send bench ${g}`, memberUsernames: [b.username] },
      });
      this.senders.push({ token: a.token, groupId: r.createGroup.id }, { token: b.token, groupId: r.createGroup.id });
    }
    this.sockets = await Promise.all(this.senders.map((s) => WsOperations.open(`ws://127.0.0.1:${this.service.port}/graphql`, s.token)));
  }

  /** Sends at RATE for SECONDS over one transport; resolves once every send is answered. */
  async round(transport: Transport, label: string): Promise<RoundResult> {
    const latencies: number[] = [];
    let failures = 0;
    const total = Math.floor(RATE * SECONDS);
    const cpuBefore = cpuSample(this.service.pid!, process.pid, this.service.dataDir);
    const start = performance.now();
    const sends: Array<Promise<void>> = [];
    for (let n = 0; n < total; ) {
      const due = Math.min(total, Math.floor(((performance.now() - start) * RATE) / 1000) + 1);
      for (; n < due; n++) {
        const k = n % SENDERS;
        const { token, groupId } = this.senders[k];
        const variables = { i: { groupId, body: `Message ${n}: are we still on for dinner on Friday?`, clientMessageId: `${label}-${n}` } };
        const t = performance.now();
        const sent = transport === 'http' ? this.api.request(token, SEND, variables).then(() => undefined) : this.sockets[k].run(SEND, variables);
        sends.push(
          sent.then(
            () => void latencies.push(performance.now() - t),
            (err) => {
              if (failures++ === 0) console.error(`${transport} send failed:`, String(err));
            },
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(sends);
    const cpu = cpuDelta(cpuBefore, cpuSample(this.service.pid!, process.pid, this.service.dataDir));
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    return { serviceUs: ((cpu?.service ?? NaN) * 1000) / total, postgresUs: ((cpu?.postgres ?? NaN) * 1000) / total, p50: q(0.5), p99: q(0.99), failures };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.close();
    this.api?.close();
    await this.service.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

void runBench(new SendBench(), 300_000, async (bench, load) => {
  await bench.start();
  await bench.seed();
  await bench.round('http', 'warm-http');
  await bench.round('ws', 'warm-ws');
  const results: Record<Transport, RoundResult[]> = { http: [], ws: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Transport[] = r % 2 === 0 ? ['http', 'ws'] : ['ws', 'http'];
    for (const t of order) results[t].push(await bench.round(t, `${t}-${r}`));
  }
  const row = (t: Transport) => {
    const rs = results[t];
    return `  ${(t === 'http' ? 'HTTP POST' : 'graphql-ws').padEnd(12)}${fmt(median(rs.map((x) => x.serviceUs))).padStart(10)}${fmt(median(rs.map((x) => x.postgresUs))).padStart(10)}${fmt(median(rs.map((x) => x.p50)), 2).padStart(10)}${fmt(median(rs.map((x) => x.p99)), 2).padStart(10)}`;
  };
  const ratio = median(results.ws.map((x) => x.serviceUs)) / median(results.http.map((x) => x.serviceUs));
  const failures = [...results.http, ...results.ws].reduce((s, x) => s + x.failures, 0);
  console.log(
    [
      '',
      `Roundtable send bench: ${SENDERS} members of ${GROUPS} groups send ${RATE} messages/s for ${SECONDS} s per round, ${ROUNDS} alternating rounds per transport, no subscribers; load average at start ${load}.`,
      `                service us  postgres us   p50 ms    p99 ms   (CPU per message; medians over the rounds)`,
      row('http'),
      row('ws'),
      `  rounds, service us: HTTP ${results.http.map((x) => fmt(x.serviceUs)).join(' / ')}; graphql-ws ${results.ws.map((x) => fmt(x.serviceUs)).join(' / ')}`,
      `Target: a mutation over graphql-ws costs the service no more than over HTTP:  ${fmt(ratio, 2)}x  ${ratio <= 1 ? 'MET' : 'NOT MET'}`,
      `${failures} failed sends.`,
    ].join('\n'),
  );
  return failures === 0;
});
