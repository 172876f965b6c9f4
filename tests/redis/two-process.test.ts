/**
 * Two API instances on one database, sharing subscriptions through Redis: what is sent
 * on one instance reaches subscribers on the other, once and in order.
 */
import Redis from 'ioredis';
import { startTwoApis, TestApi } from '../support/harness';
import { describeWithRedis, redisUrl, sleep, untilChannelSubscribers } from './support';

describeWithRedis('two API instances sharing Redis', () => {
  let a: TestApi;
  let b: TestApi;
  let redis: Redis;

  beforeAll(async () => {
    [a, b] = await startTwoApis({ REDIS_URL: redisUrl() });
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.quit();
  });

  it('runs both instances on the same database', async () => {
    const [alice] = await a.users(1);
    const groupId = await a.group(alice);
    const seen = await b.ok(alice.token, `query($id: ID!) { group(id: $id) { id } }`, { id: groupId });
    expect(seen.group.id).toBe(groupId);
  });

  it('delivers messages sent through B to a subscriber on A, exactly once and in order', async () => {
    const [alice, bob] = await a.users(2);
    const groupId = await a.group(alice, [bob]);
    const sub = a.subscribe(bob.token, groupId);
    await untilChannelSubscribers(redis, groupId, 1);

    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(await b.send(alice, groupId, `from B #${i}`));
    await sub.until((e) => e.filter((x) => x.type === 'MESSAGE_CREATED').length >= sent.length);
    await sleep(300); // room for a duplicate to show up

    const created = sub.events.filter((x) => x.type === 'MESSAGE_CREATED');
    expect(created.map((x) => x.message.id)).toEqual(sent.map((m) => m.id));
    expect(created.map((x) => x.message.body)).toEqual(sent.map((m) => m.body));
    expect(created.every((x) => x.message.author.id === alice.id)).toBe(true);
    const seqs = sub.seqs();
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('puts messages sent concurrently through both instances in one gap-free order on both', async () => {
    const [alice, bob, carol] = await a.users(3);
    const groupId = await a.group(alice, [bob, carol]);
    const onA = a.subscribe(bob.token, groupId);
    const onB = b.subscribe(carol.token, groupId);
    await untilChannelSubscribers(redis, groupId, 2);
    const { group } = await a.ok(alice.token, `query($id: ID!) { group(id: $id) { lastSeq } }`, { id: groupId });

    const n = 30;
    const sent = await Promise.all(
      Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b).send(i % 3 === 0 ? alice : bob, groupId, `concurrent ${i}`)),
    );
    const expected = sent.map((m) => m.seq).sort((x, y) => x - y);
    expect(expected).toEqual(Array.from({ length: n }, (_, i) => group.lastSeq + 1 + i));

    await Promise.all([onA.untilCount(n), onB.untilCount(n)]);
    await sleep(300);
    expect(onA.seqs()).toEqual(expected);
    expect(onB.seqs()).toEqual(expected);
    const byId = new Map(sent.map((m) => [m.seq, m.id]));
    expect(onA.events.map((e) => e.message.id)).toEqual(expected.map((s) => byId.get(s)));
  });

  it('ends the subscription on A of a member removed through B, after telling them', async () => {
    const [alice, bob, carol] = await a.users(3);
    const groupId = await a.group(alice, [bob, carol]);
    const bobOnA = a.subscribe(bob.token, groupId);
    const carolOnA = a.subscribe(carol.token, groupId);
    await untilChannelSubscribers(redis, groupId, 1);

    await b.ok(alice.token, `mutation($g: ID!, $u: ID!) { removeMember(groupId: $g, userId: $u) { id } }`, { g: groupId, u: bob.id });
    await bobOnA.untilDone();
    expect(bobOnA.errors).toEqual([]);
    expect(bobOnA.events.map((e) => e.type)).toEqual(['MEMBER_REMOVED']);
    expect(bobOnA.events[0].member.user.id).toBe(bob.id);

    // The others stay subscribed and keep hearing the group.
    const after = await b.send(alice, groupId, 'still here');
    await carolOnA.until((e) => e.some((x) => x.message?.id === after.id));
    expect(carolOnA.completed).toBe(false);
    expect(carolOnA.events.map((e) => e.type)).toEqual(['MEMBER_REMOVED', 'MESSAGE_CREATED']);
    expect(bobOnA.events).toHaveLength(1);
  });

  it('delivers typing set through B to a subscriber on A', async () => {
    const [alice, bob] = await a.users(2);
    const groupId = await a.group(alice, [bob]);
    const sub = a.subscribe(alice.token, groupId);
    await untilChannelSubscribers(redis, groupId, 1);

    expect(await b.ok(bob.token, `mutation($g: ID!) { setTyping(groupId: $g, isTyping: true) }`, { g: groupId })).toEqual({ setTyping: true });
    const [typing] = await sub.until((e) => e.some((x) => x.type === 'TYPING'));
    expect(typing).toMatchObject({ type: 'TYPING', seq: null, groupId, typing: { user: { id: bob.id }, isTyping: true } });

    await b.ok(bob.token, `mutation($g: ID!) { setTyping(groupId: $g, isTyping: false) }`, { g: groupId });
    await sub.until((e) => e.length >= 2);
    expect(sub.events[1]).toMatchObject({ type: 'TYPING', typing: { user: { id: bob.id }, isTyping: false } });
  });

  it('stops listening on the channel once the last subscriber on an instance is gone', async () => {
    const [alice] = await a.users(1);
    const groupId = await a.group(alice);
    const onA = a.subscribe(alice.token, groupId);
    const onB = b.subscribe(alice.token, groupId);
    await untilChannelSubscribers(redis, groupId, 2);
    onA.unsubscribe();
    await untilChannelSubscribers(redis, groupId, 1);
    onB.unsubscribe();
    await untilChannelSubscribers(redis, groupId, 0);
  });
});

describeWithRedis('two API instances without Redis (control)', () => {
  let a: TestApi;
  let b: TestApi;

  beforeAll(async () => {
    [a, b] = await startTwoApis();
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('does not carry a message sent through B to a subscriber on A: crossing processes is the Redis bus', async () => {
    const [alice, bob] = await a.users(2);
    const groupId = await a.group(alice, [bob]);
    const { group } = await a.ok(alice.token, `query($id: ID!) { group(id: $id) { lastSeq } }`, { id: groupId });
    // Resuming from lastSeq: once 'sent on A' arrives (live or replayed), A's feed is live.
    const sub = a.subscribe(bob.token, groupId, group.lastSeq);
    const onA = await a.send(alice, groupId, 'sent on A');
    await sub.until((e) => e.some((x) => x.message?.id === onA.id));
    await b.send(alice, groupId, 'sent on B');
    await sleep(500);
    expect(sub.events.map((e) => e.message.body)).toEqual(['sent on A']);
  });
});
