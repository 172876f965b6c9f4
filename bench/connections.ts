/**
 * `npm run bench:connections`: what one subscribed graphql-ws connection costs the
 * service in memory, next to a raw `ws` server holding the same sockets (issue 13:
 * <= 20 KB of RSS per subscribed connection).
 *
 * The service (dist/api/src/main.js on a throwaway embedded PostgreSQL) and the raw
 * baseline (raw-ws-server.ts) each run in their own process, started with --expose-gc and
 * asked over IPC for their memory after full collections (memory-probe.ts). Every client
 * socket lives in this process, whose memory counts for neither.
 *
 * The service is restarted on the same database after seeding, so that what seeding left
 * in its heap does not count. For each server: a warm-up (100 connections opened, fed an event and closed), a
 * baseline sample, then connections opened up to each count (2,000 and 8,000 by default),
 * every one a separate user with one `groupEvents` subscription, 20 members per group.
 * Before each sample every subscription is shown live: the server counts it, and one
 * event per group (a sendMessage; raw: a frame) reaches every socket of the group.
 * Per connection = (sample - baseline) / connections.
 *
 * Env: BENCH_CONNECTIONS (counts, default "2000,8000"), BENCH_HEAP_SNAPSHOT (a directory:
 * heap snapshots of the service at the baseline and at each count, for bench/heap-diff.ts).
 */
import { ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { signDevToken } from '../api/src/auth/jwt';
import { EVENT_SELECTION, GraphqlHttp } from './fanout-clients';
import type { MemorySample } from './memory-probe';
import type { RawWsCommand } from './raw-ws-server';
import { askChild, runBench, ServiceProcess, stopChild } from './service-process';

const COUNTS = (process.env.BENCH_CONNECTIONS ?? '2000,8000')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const MAX = COUNTS[COUNTS.length - 1];
const PER_GROUP = 20;
const WARM_UP = 5 * PER_GROUP;
/** Connections waiting for their connection_ack at once (each costs the service a token check and an upsert). */
const CONNECTING = 64;
const SEEDING = 32;
const TARGET_KB = 20;
const TIME_LIMIT_MS = 900_000;
const SECRET = 'connections-bench-secret-that-is-long-enough-0123456789';
const SUBSCRIBE = `subscription($g: ID!) { groupEvents(groupId: $g) { ${EVENT_SELECTION} } }`;
const KB = 1024;

interface BenchUser {
  token: string;
  username: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function pooled<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    range(Math.min(limit, items.length)).map(async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** One subscribed socket: graphql-transport-ws by hand (init, ack, subscribe, pong), counting `next` frames. */
class Client {
  readonly socket: WebSocket;
  received = 0;
  private closing = false;

  constructor(url: string, token: string, groupId: string, onError: (err: unknown) => void, onAck: () => void) {
    const socket = (this.socket = new WebSocket(url, 'graphql-transport-ws'));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; payload?: { errors?: unknown } };
      if (frame.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIBE, variables: { g: groupId } } }));
        onAck();
      } else if (frame.type === 'next' && !frame.payload?.errors) this.received++;
      else if (frame.type === 'ping') socket.send('{"type":"pong"}');
      else if (frame.type !== 'pong') onError(new Error(`unexpected frame ${String(data).slice(0, 300)}`));
    });
    socket.on('error', onError);
    socket.on('close', (code, reason) => {
      if (!this.closing) onError(new Error(`socket closed ${code} ${String(reason)}`));
    });
  }

  close(): void {
    this.closing = true;
    this.socket.terminate();
  }
}

/** One server under test, as the bench drives it. */
interface Target {
  name: string;
  url: string;
  memory(): Promise<MemorySample>;
  /** Subscriptions the server holds. */
  live(): Promise<number>;
  /** Makes one event reach every subscriber of the group. */
  event(group: number): Promise<void>;
  snapshot?(label: string): Promise<void>;
}

interface Sample {
  connections: number;
  memory: MemorySample;
}

interface Arm {
  name: string;
  baseline: MemorySample;
  samples: Sample[];
}

class ConnectionsBench {
  readonly service = new ServiceProcess('bench-connections');
  private raw: ChildProcess | null = null;
  private api: GraphqlHttp | null = null;
  private clients: Client[] = [];
  readonly errors: unknown[] = [];
  users: BenchUser[] = [];
  groups: string[] = [];

  async start(): Promise<void> {
    await this.service.start({ jwtSecret: SECRET, memoryProbe: true });
    this.api = new GraphqlHttp(new URL(`http://127.0.0.1:${this.service.port}/graphql`));
  }

  /** MAX users with profiles, in groups of 20 with the AI off. */
  async seed(): Promise<void> {
    this.users = await pooled(range(MAX), SEEDING, async (i) => {
      const token = await signDevToken(SECRET, { sub: `conn-${process.pid}-${i}`, plan: 'plus', region: 'DE', age: 'adult' });
      const username = `conn_${i}`;
      await this.api!.request(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, {
        i: { displayName: `Connection ${i}`, username, photoUrl: `https://example.test/${username}.png` },
      });
      return { token, username };
    });
    this.groups = await pooled(range(MAX / PER_GROUP), SEEDING / 4, async (g) => {
      const members = this.users.slice(g * PER_GROUP, (g + 1) * PER_GROUP);
      const r = await this.api!.request<{ createGroup: { id: string } }>(members[0].token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
        i: { title: `Connections ${g}`, memberUsernames: members.slice(1).map((m) => m.username) },
      });
      await this.api!.request(members[0].token, `mutation($g: ID!) { updateGroup(groupId: $g, input: { aiMode: OFF }) { id } }`, { g: r.createGroup.id });
      return r.createGroup.id;
    });
  }

  /** The service in a fresh process: what seeding left in its heap and RSS must not count. */
  restartService(): Promise<void> {
    return this.service.restart();
  }

  ours(): Target {
    const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT;
    return {
      name: 'Roundtable (graphql-ws)',
      url: `ws://127.0.0.1:${this.service.port}/graphql`,
      memory: () => this.service.memory(),
      live: () => this.service.metric('roundtable_subscriptions_active'),
      event: async (g) => {
        const author = this.users[g * PER_GROUP];
        await this.api!.request(author.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, {
          i: { groupId: this.groups[g], body: `Is everyone still up for Friday? (${g})`, clientMessageId: `conn-${g}-${Date.now()}` },
        });
      },
      snapshot: snapshotDir ? (label) => this.service.heapSnapshot(path.resolve(snapshotDir, `service-${label}.heapsnapshot`)) : undefined,
    };
  }

  async rawTarget(): Promise<Target> {
    const raw = fork(path.join(__dirname, 'raw-ws-server.js'), [], { env: { PATH: process.env.PATH }, execArgv: ['--expose-gc'], stdio: 'inherit' });
    this.raw = raw;
    const port = await new Promise<number>((resolve, reject) => {
      raw.once('message', (m: { port: number }) => resolve(m.port));
      raw.once('exit', () => reject(new Error('raw server exited')));
    });
    // The payload a member gets for a message, at the same size.
    const frame = JSON.stringify({
      data: {
        groupEvents: {
          seq: 2, type: 'MESSAGE_CREATED', groupId: '', occurredAt: new Date().toISOString(), actor: { id: '00000000-0000-0000-0000-000000000000', username: 'conn_0', displayName: 'Connection 0' },
          message: { id: '00000000-0000-0000-0000-000000000000', seq: 2, body: 'Is everyone still up for Friday? (0)', clientMessageId: 'conn-0', createdAt: new Date().toISOString(),
            author: { id: '00000000-0000-0000-0000-000000000000', username: 'conn_0', displayName: 'Connection 0', photoUrl: 'https://example.test/conn_0.png' } },
        },
      },
    });
    return {
      name: 'Raw ws baseline',
      url: `ws://127.0.0.1:${port}/`,
      memory: () => askChild(raw, { t: 'memory' }).then((m) => (m as { usage: MemorySample }).usage),
      live: () => askChild(raw, { t: 'count' }).then((m) => (m as { n: number }).n),
      event: async (g) => void raw.send({ t: 'send', groupId: this.groups[g], frame } satisfies RawWsCommand),
    };
  }

  /** Opens connections `from`..`to`-1 (user i in group i / 20), each subscribing once acknowledged. */
  private async open(target: Target, from: number, to: number): Promise<void> {
    await pooled(range(to - from), CONNECTING, (k) => {
      const i = from + k;
      return new Promise<void>((resolve) => {
        this.clients[i] = new Client(target.url, this.users[i].token, this.groups[Math.floor(i / PER_GROUP)], (err) => {
          this.errors.push(err);
          resolve();
        }, resolve);
      });
    });
  }

  private async until(what: string, check: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (this.errors.length) throw new Error(`${what}: ${String(this.errors[0])}`);
      if (Date.now() > deadline) throw new Error(`${what}: timed out`);
      await sleep(100);
    }
  }

  /** Connections `from`..`to`-1 open, subscribed, and each has received one event of its group. */
  private async subscribe(target: Target, from: number, to: number): Promise<void> {
    await this.open(target, from, to);
    await this.until(`${target.name}: ${to} subscriptions live`, async () => (await target.live()) >= to);
    const groups = range((to - from) / PER_GROUP).map((k) => from / PER_GROUP + k);
    const before = this.clients.slice(from, to).map((c) => c.received);
    await pooled(groups, 16, (g) => target.event(g));
    await this.until(`${target.name}: one event delivered to each of ${to - from} connections`, () => this.clients.slice(from, to).every((c, k) => c.received > before[k]));
  }

  private async closeAll(target: Target): Promise<void> {
    for (const c of this.clients) c?.close();
    this.clients = [];
    await this.until(`${target.name}: subscriptions ended`, async () => (await target.live()) === 0);
  }

  async measure(target: Target): Promise<Arm> {
    await this.subscribe(target, 0, WARM_UP);
    await this.closeAll(target);
    const baseline = await target.memory();
    await target.snapshot?.('0');
    const samples: Sample[] = [];
    let open = 0;
    for (const n of COUNTS) {
      await this.subscribe(target, open, n);
      open = n;
      samples.push({ connections: n, memory: await target.memory() });
      await target.snapshot?.(String(n));
    }
    await this.closeAll(target);
    return { name: target.name, baseline, samples };
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c?.close();
    this.api?.close();
    await stopChild(this.raw, (raw) => raw.send({ t: 'stop' } satisfies RawWsCommand));
    await this.service.stop();
  }
}

const kb = (bytes: number) => (bytes / KB).toFixed(1);
const mb = (bytes: number) => (bytes / KB / KB).toFixed(1);
const pad = (s: string, n: number) => s.padStart(n);
const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

/** Per connection over the baseline, in bytes. */
const per = (arm: Arm, s: Sample, k: keyof MemorySample) => (s.memory[k] - arm.baseline[k]) / s.connections;

function report(ours: Arm, raw: Arm, load: string, seconds: number): boolean {
  const openFiles = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '?';
  const ports = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-');
  const LABEL = 28;
  const head = `${''.padEnd(LABEL)}${pad('connections', 12)}${pad('RSS', 10)}${pad('heap', 10)}${pad('external', 10)}${pad('RSS total', 12)}${pad('heap total', 12)}`;
  const line = '-'.repeat(head.length);
  const row = (arm: Arm, s: Sample) =>
    `${('  ' + arm.name).padEnd(LABEL)}${pad(s.connections.toLocaleString('en-US'), 12)}${pad(kb(per(arm, s, 'rss')), 10)}${pad(kb(per(arm, s, 'heapUsed')), 10)}` +
    `${pad(kb(per(arm, s, 'external')), 10)}${pad(mb(s.memory.rss) + ' MB', 12)}${pad(mb(s.memory.heapUsed) + ' MB', 12)}`;
  const base = (arm: Arm) => `${('  ' + arm.name).padEnd(LABEL)}${pad('0', 12)}${''.padEnd(30)}${pad(mb(arm.baseline.rss) + ' MB', 12)}${pad(mb(arm.baseline.heapUsed) + ' MB', 12)}`;
  const rss = ours.samples.map((s) => per(ours, s, 'rss') / KB);
  console.log(
    [
      '',
      `Roundtable connections bench: memory per subscribed graphql-ws connection (one groupEvents subscription each, ${PER_GROUP} members per group, one user per connection),`,
      `next to a raw ws server holding the same sockets and registrations. Load average at start ${load}; open files limit ${openFiles}; ephemeral ports ${ports}.`,
      `Each figure: the server process's memory after full collections, minus its own baseline after a warm-up, divided by the connections open; KB = 1024 bytes.`,
      line,
      `${''.padEnd(LABEL)}${''.padEnd(12)}${pad('per connection, KB', 30)}`,
      head,
      line,
      base(ours),
      ...ours.samples.map((s) => row(ours, s)),
      base(raw),
      ...raw.samples.map((s) => row(raw, s)),
      ...ours.samples.map((s, i) => `${('  ratio RSS ours / raw').padEnd(LABEL)}${pad(s.connections.toLocaleString('en-US'), 12)}${pad((per(ours, s, 'rss') / per(raw, raw.samples[i], 'rss')).toFixed(1) + 'x', 10)}`),
      line,
      `Target <= ${TARGET_KB} KB of RSS per subscribed connection:  ` +
        ours.samples.map((s, i) => `${rss[i].toFixed(1)} KB at ${s.connections.toLocaleString('en-US')} ${verdict(rss[i] <= TARGET_KB)}`).join(',  '),
      `(bench took ${seconds.toFixed(0)} s)`,
    ].join('\n'),
  );
  return true;
}

void runBench(new ConnectionsBench(), TIME_LIMIT_MS, async (bench, load) => {
  if (COUNTS.some((n) => !Number.isInteger(n) || n <= 0 || n % PER_GROUP !== 0)) throw new Error(`BENCH_CONNECTIONS: positive multiples of ${PER_GROUP}, got ${process.env.BENCH_CONNECTIONS}`);
  const started = Date.now();
  await bench.start();
  await bench.seed();
  console.error(`seeded ${bench.users.length} users in ${bench.groups.length} groups (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  await bench.restartService();
  const ours = await bench.measure(bench.ours());
  console.error(`measured the service (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const raw = await bench.measure(await bench.rawTarget());
  return report(ours, raw, load, (Date.now() - started) / 1000);
});
