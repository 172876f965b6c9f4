import { randomUUID } from 'node:crypto';
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
});
