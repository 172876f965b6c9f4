/**
 * Issue 13, item 6: a subscribed connection costs the service little memory. Each socket
 * keeps no parse of its own (documents are shared by query text), no upgrade request, no
 * user row or init payload beyond its session, no loaders, and no Buffer of its subscribe
 * frame. Measured here in one process, server and clients together, as the growth of
 * heap plus external memory after full collections; `npm run bench:connections` measures
 * the service alone, in its own process (README, "Memory per connection").
 */
import vm from 'node:vm';
import v8 from 'node:v8';
import WebSocket from 'ws';
import { eventually, startApi, TestApi, TestUser } from '../support/harness';
import { Wakeup } from '../support/wakeup';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const GROUPS = 10;
const PER_GROUP = 20;
const N = GROUPS * PER_GROUP;
/** Server and client side together; the service alone took 33 KB before (30 of heap, 3 of Buffers). */
const LIMIT_BYTES = 24 * 1024;
const SELECTION = `seq type groupId occurredAt actor { id username displayName }
  message { id seq body clientMessageId createdAt author { id username displayName photoUrl } }`;

function memory(): number {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** One socket with one groupEvents subscription; counts its `next` frames. */
class Subscriber {
  nexts = 0;
  private readonly ws: WebSocket;

  constructor(api: TestApi, user: TestUser, groupId: string, wakeup: Wakeup) {
    const ws = (this.ws = new WebSocket(api.wsUrl, 'graphql-transport-ws'));
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } })));
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as { type: string; payload?: { errors?: unknown } };
      if (f.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription($g: ID!) { groupEvents(groupId: $g) { ${SELECTION} } }`, variables: { g: groupId } } }));
      } else if (f.type === 'next' && !f.payload?.errors) {
        this.nexts++;
        wakeup.wake();
      } else if (f.type !== 'ping' && f.type !== 'pong') {
        throw new Error(`unexpected frame ${String(d).slice(0, 300)}`);
      }
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

describe('memory per subscribed connection', () => {
  let api: TestApi;
  let users: TestUser[];
  const groups: string[] = [];
  const wakeup = new Wakeup();

  beforeAll(async () => {
    api = await startApi();
    users = await api.users(N);
    for (let g = 0; g < GROUPS; g++) groups.push(await api.group(users[g * PER_GROUP], users.slice(g * PER_GROUP + 1, (g + 1) * PER_GROUP)));
  });
  afterAll(() => api.stop());

  const live = async () => (await api.app.services.metrics.subscriptions.get()).values[0]?.value ?? 0;

  /** Opens a subscription for users[from..to), then shows each is live: one message per group reaches every one. */
  async function subscribe(from: number, to: number): Promise<Subscriber[]> {
    const subs = users.slice(from, to).map((u, k) => new Subscriber(api, u, groups[Math.floor((from + k) / PER_GROUP)], wakeup));
    await eventually(async () => (await live()) === to - from, 30_000);
    for (let g = from / PER_GROUP; g < to / PER_GROUP; g++) await api.send(users[g * PER_GROUP], groups[g], `hello ${g}`);
    await wakeup.until(() => subs.every((s) => s.nexts > 0), 30_000, () => new Error(`${subs.filter((s) => s.nexts === 0).length} subscribers got no event`));
    return subs;
  }

  it(`holds ${N} subscribed connections in under ${LIMIT_BYTES / 1024} KB each, server and client together`, async () => {
    // Warm-up: what the first connections and events allocate once (JIT, pools, feeds) does not count.
    const warm = await subscribe(0, PER_GROUP);
    warm.forEach((s) => s.close());
    await eventually(async () => (await live()) === 0, 30_000);

    const before = memory();
    const subs = await subscribe(0, N);
    const perConnection = (memory() - before) / N;
    subs.forEach((s) => s.close());
    console.log(`memory per subscribed connection, server and client: ${(perConnection / 1024).toFixed(1)} KB`);
    expect(perConnection).toBeLessThan(LIMIT_BYTES);
  }, 120_000);
});
