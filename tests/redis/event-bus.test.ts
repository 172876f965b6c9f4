import { randomUUID } from 'node:crypto';
import net from 'node:net';
import Redis from 'ioredis';
import pino from 'pino';
import { RedisEventBus } from '../../api/src/events/event-bus';
import type { GroupEventKind, GroupEventType } from '../../api/src/events/group-event.type';
import { channelSubscribers, describeWithRedis, redisUrl, sleep } from './support';

const log = pino({ level: 'silent' });

const event = (groupId: string, seq: number): GroupEventType => ({
  seq,
  groupId,
  type: 'GROUP_UPDATED' as GroupEventKind,
  occurredAt: new Date(0).toISOString(),
  actor: null,
  message: null,
  member: null,
  group: null,
  reaction: null,
  typing: null,
});

/** Collects what a handler is given and waits for it. */
function collector() {
  const got: GroupEventType[] = [];
  return {
    got,
    handler: (e: GroupEventType) => void got.push(e),
    async until(n: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} events, got ${got.length}`);
        await sleep(10);
      }
    },
  };
}

/**
 * A TCP proxy to Redis that hands its replies back late, as a loaded machine does: a client's
 * handshake then stays in flight long enough to act in the middle of it.
 */
async function slowRepliesProxy(replyDelayMs: number) {
  const target = new URL(redisUrl());
  const sockets = new Set<net.Socket>();
  /** Resolves each waiter once that many client connections have written their first bytes. */
  let talking = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    client.once('data', () => {
      talking += 1;
      for (const w of waiters.filter((w) => w.n <= talking)) w.resolve();
    });
    client.pipe(upstream);
    upstream.on('data', (chunk) => setTimeout(() => client.write(chunk), replyDelayMs));
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) s.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    clientsTalking: (n: number) => new Promise<void>((resolve) => (talking >= n ? resolve() : waiters.push({ n, resolve }))),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describeWithRedis('RedisEventBus', () => {
  let a: RedisEventBus;
  let b: RedisEventBus;
  let admin: Redis;

  beforeEach(() => {
    a = new RedisEventBus(redisUrl(), log);
    b = new RedisEventBus(redisUrl(), log);
    admin = new Redis(redisUrl());
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await admin.quit();
  });

  it('delivers one publish to every bus subscribed to the group, once each, and to no other group', async () => {
    const groupId = randomUUID();
    const other = randomUUID();
    const onA = collector();
    const onB = collector();
    const onOther = collector();
    await a.subscribe(groupId, onA.handler);
    await b.subscribe(groupId, onB.handler);
    await b.subscribe(other, onOther.handler);

    for (let seq = 1; seq <= 5; seq++) a.publish(groupId, event(groupId, seq));
    await Promise.all([onA.until(5), onB.until(5)]);
    await sleep(100);

    expect(onA.got.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(onB.got.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(onB.got[0]).toEqual(event(groupId, 1));
    expect(onOther.got).toEqual([]);
  });

  it('stops delivering to a bus after its last handler unsubscribes, and leaves the channel', async () => {
    const groupId = randomUUID();
    const onA = collector();
    const onB = collector();
    await a.subscribe(groupId, onA.handler);
    const offB = await b.subscribe(groupId, onB.handler);
    expect(await channelSubscribers(admin, groupId)).toBe(2);

    a.publish(groupId, event(groupId, 1));
    await Promise.all([onA.until(1), onB.until(1)]);

    offB();
    const deadline = Date.now() + 5000;
    while ((await channelSubscribers(admin, groupId)) !== 1) {
      if (Date.now() > deadline) throw new Error('bus b did not leave the redis channel');
      await sleep(10);
    }
    a.publish(groupId, event(groupId, 2));
    await onA.until(2);
    await sleep(150);
    expect(onB.got.map((e) => e.seq)).toEqual([1]);
    expect(onA.got.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('keeps the channel while another local handler of the same group remains', async () => {
    const groupId = randomUUID();
    const first = collector();
    const second = collector();
    const offFirst = await b.subscribe(groupId, first.handler);
    await b.subscribe(groupId, second.handler);
    expect(await channelSubscribers(admin, groupId)).toBe(1);

    offFirst();
    a.publish(groupId, event(groupId, 1));
    await second.until(1);
    await sleep(100);
    expect(first.got).toEqual([]);
    expect(await channelSubscribers(admin, groupId)).toBe(1);
  });

  // ioredis writes a SUBSCRIBE made during its handshake at once; before the ready check it put the
  // connection in subscriber mode, the check failed, and the reconnect dropped the subscription.
  it('keeps a subscription made while its connection is still in the handshake', async () => {
    const proxy = await slowRepliesProxy(100);
    const c = new RedisEventBus(proxy.url, log);
    try {
      const groupId = randomUUID();
      const onC = collector();
      // Both connections have sent their first handshake command; no reply is back yet.
      await proxy.clientsTalking(2);
      await c.subscribe(groupId, onC.handler);
      for (let seq = 1; seq <= 3; seq++) a.publish(groupId, event(groupId, seq));
      await onC.until(3, 3000);
      await sleep(300);
      a.publish(groupId, event(groupId, 4));
      await onC.until(4, 3000);
      expect(onC.got.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    } finally {
      await c.close();
      await proxy.close();
    }
  });
});
