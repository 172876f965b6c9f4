import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  EVENT_SELECTION,
  EventCollector,
  eventually,
  lastSeq,
  liveSubscription,
  range,
  startApi,
  subscriptionErrors,
  TestApi,
  TestUser,
} from './support/harness';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

const REMOVE = `mutation($g: ID!, $u: ID!) { removeMember(groupId: $g, userId: $u) { id } }`;
const LEAVE = `mutation($g: ID!) { leaveGroup(groupId: $g) }`;
const ADD = `mutation($g: ID!, $u: [String!]!) { addMembers(groupId: $g, usernames: $u) { id } }`;

const created = (events: any[]) => events.filter((e) => e.type === 'MESSAGE_CREATED');
const hasMessage = (id: string) => (events: any[]) => events.some((e) => e.type === 'MESSAGE_CREATED' && e.message?.id === id);

async function group(n: number): Promise<{ users: TestUser[]; groupId: string }> {
  const users = await api.users(n);
  return { users, groupId: await api.group(users[0], users.slice(1)) };
}

/** Open groupEvents subscriptions in the server process, from its metrics. */
async function activeSubscriptions(target: TestApi): Promise<number> {
  const text = await (await fetch(target.url.replace(/\/graphql$/, '/metrics'))).text();
  return Number(/^roundtable_subscriptions_active (\d+)/m.exec(text)![1]);
}

/** Subscription executions (event run through a query and stringified) so far, from the metrics. */
async function subscriptionExecutions(target: TestApi): Promise<number> {
  const text = await (await fetch(target.url.replace(/\/graphql$/, '/metrics'))).text();
  return Number(/^roundtable_subscription_executions_total (\d+)/m.exec(text)![1]);
}

/** A bare graphql-ws connection, for what the client library hides: frames, ids, backpressure. */
async function rawClient(target: TestApi, token: string) {
  const ws = new WebSocket(target.wsUrl, 'graphql-transport-ws');
  const frames: any[] = [];
  const texts: string[] = [];
  let wake = () => {};
  let closed: number | null = null;
  ws.on('message', (d) => {
    texts.push(String(d));
    frames.push(JSON.parse(String(d)));
    wake();
  });
  ws.on('close', (code) => {
    closed = code;
    wake();
  });
  // A frame that has not come when the socket closes never will: fail at once, not at the test's timeout.
  const frame = async (pred: (f: any) => boolean) => {
    while (!frames.some(pred)) {
      if (closed !== null) throw new Error(`the socket closed (${closed}) before the awaited frame came`);
      await new Promise<void>((r) => (wake = r));
    }
    return frames.find(pred);
  };
  const subscribe = (id: string, groupId: string, afterSeq: number, selection: string) =>
    ws.send(JSON.stringify({
      id,
      type: 'subscribe',
      payload: { query: `subscription($g: ID!, $a: Int) { groupEvents(groupId: $g, afterSeq: $a) { ${selection} } }`, variables: { g: groupId, a: afterSeq } },
    }));
  const seqs = (id: string) => frames.filter((f) => f.id === id && f.type === 'next').map((f) => f.payload.data.groupEvents.seq);
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await frame((f) => f.type === 'connection_ack');
  return { ws, frames, texts, frame, subscribe, seqs };
}

describe('fan-out', () => {
  it('runs each event once per query shape and sends every subscriber of that shape the same bytes', async () => {
    const { users, groupId } = await group(4);
    const since = await lastSeq(api, groupId);
    const clients = await Promise.all(users.map((u) => rawClient(api, u.token)));
    const selection = 'seq type message { id body author { username } }';
    clients.forEach((c, i) => c.subscribe(`s${i}`, groupId, since, i < 3 ? selection : 'seq message { id }'));
    // A first message reaches everyone (live or replayed): after it, every subscription is live.
    const fence = await api.send(users[0], groupId, 'fence');
    await Promise.all(clients.map((c, i) => c.frame((f) => f.id === `s${i}` && f.payload?.data?.groupEvents?.seq === fence.seq)));
    const before = await subscriptionExecutions(api);

    const message = await api.send(users[1], groupId, 'one execution, four frames');
    const got = await Promise.all(clients.map((c, i) => c.frame((f) => f.id === `s${i}` && f.payload?.data?.groupEvents?.seq === message.seq)));
    expect(got[0].payload.data.groupEvents).toEqual({ seq: message.seq, type: 'MESSAGE_CREATED', message: { id: message.id, body: 'one execution, four frames', author: { username: users[1].username } } });
    expect(got[3].payload.data.groupEvents).toEqual({ seq: message.seq, message: { id: message.id } });
    // Two shapes, two executions, whatever the number of subscribers.
    expect((await subscriptionExecutions(api)) - before).toBe(2);
    const payloadOf = (text: string) => text.slice(text.indexOf('"payload":'));
    const frames = clients.map((c, i) => c.texts.find((t) => t.startsWith(`{"id":"s${i}","type":"next"`) && t.includes(message.id))!);
    expect(new Set(frames.slice(0, 3).map(payloadOf)).size).toBe(1);
    for (const c of clients) c.ws.close();
  });

  it('delivers one message exactly once to each of 20 members subscribed at once', async () => {
    const { users, groupId } = await group(20);
    const subs = await Promise.all(users.map((u) => liveSubscription(api, u, groupId)));
    const message = await api.send(users[3], groupId, 'hello all 20');
    // A second message is a fence: anything duplicated for the first would have arrived before it.
    const fence = await api.send(users[0], groupId, 'fence');
    await Promise.all(subs.map((s) => s.events.until(hasMessage(fence.id))));
    for (const s of subs) {
      const live = s.events.events.filter((e) => e.seq > s.since);
      expect(live.map((e) => e.seq)).toEqual([message.seq, fence.seq]);
      expect(live[0]).toMatchObject({ type: 'MESSAGE_CREATED', groupId, message: { id: message.id, body: 'hello all 20', author: { id: users[3].id } } });
      expect(s.events.errors).toEqual([]);
    }
  });

  it('delivers typing indicators to other members with seq null and without taking a seq', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const sub = await liveSubscription(api, bob, groupId);
    const before = await lastSeq(api, groupId);
    await api.ok(alice.token, `mutation($g: ID!) { setTyping(groupId: $g, isTyping: true) }`, { g: groupId });
    const events = await sub.events.until((e) => e.some((x) => x.type === 'TYPING'));
    expect(events.find((x) => x.type === 'TYPING')).toMatchObject({ seq: null, groupId, typing: { user: { id: alice.id }, isTyping: true } });
    expect(await lastSeq(api, groupId)).toBe(before);
    expect(await api.query(`SELECT 1 FROM group_events WHERE group_id = $1 AND type = 'TYPING'`, [groupId])).toEqual([]);
  });

  it('delivers events to a subscription whatever the length of its graphql-ws id', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const since = await lastSeq(api, groupId);
    const client = await rawClient(api, bob.token);
    const longId = 'id-'.padEnd(300, 'x');
    client.subscribe(longId, groupId, since - 1, 'seq message { id }');
    await client.frame((f) => f.id === longId && f.type === 'next');
    const m = await api.send(alice, groupId, 'for the long id');
    await client.frame((f) => f.id === longId && f.payload?.data?.groupEvents?.message?.id === m.id);
    expect(client.seqs(longId)).toEqual([since, m.seq]);
    client.ws.close();
  });

  it('shows the current members on membership events, not those of the first event', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const [carol, dave] = await api.users(2);
    const sub = await liveSubscription(api, alice, groupId, 'seq type member { user { id } } group { memberCount members { user { id } } }');
    await api.ok(bob.token, ADD, { g: groupId, u: [carol.username] });
    await api.ok(bob.token, ADD, { g: groupId, u: [dave.username] });
    const events = await sub.events.until((e) => e.filter((x) => x.seq > sub.since && x.type === 'MEMBER_JOINED').length === 2);
    const joined = events.filter((x) => x.seq > sub.since && x.type === 'MEMBER_JOINED');
    const ids = (e: any) => e.group.members.map((m: any) => m.user.id).sort();
    expect(joined[1].member.user.id).toBe(dave.id);
    expect(joined[1].group.memberCount).toBe(4);
    expect(ids(joined[1])).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
  });
});

describe('resuming with afterSeq', () => {
  it('replays every missed event exactly once and in order, then continues live', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const first = await liveSubscription(api, bob, groupId);
    const seen = await api.send(alice, groupId, 'seen');
    await first.events.until(hasMessage(seen.id));
    await first.client.dispose();
    const lastSeen = Math.max(...first.events.seqs());

    const missed = [];
    for (let i = 0; i < 10; i++) missed.push(await api.send(alice, groupId, `missed ${i}`));
    const resumed = new EventCollector(api.ws(bob.token), groupId, lastSeen, EVENT_SELECTION);
    await resumed.until(hasMessage(missed[9].id));
    const live = [await api.send(alice, groupId, 'live 1'), await api.send(alice, groupId, 'live 2')];
    await resumed.until(hasMessage(live[1].id));

    const expected = [...missed, ...live];
    expect(resumed.seqs()).toEqual(expected.map((m) => m.seq));
    expect(created(resumed.events).map((e) => e.message.id)).toEqual(expected.map((m) => m.id));
    expect(resumed.seqs()).toEqual(range(lastSeen + 1, await lastSeq(api, groupId)));
  });

  it.each([
    ['while another member keeps the group feed open', true],
    ['when the group feed is started afresh', false],
  ])('has no gap or duplicate at the seam when messages keep coming during the replay (%s)', async (_name, anchored) => {
    const { users: [alice, bob, carol], groupId } = await group(3);
    const anchor = anchored ? await liveSubscription(api, carol, groupId) : null;
    const first = await liveSubscription(api, bob, groupId);

    const perSender = 25;
    let sent = 0;
    const progress: Array<{ n: number; resolve: () => void }> = [];
    const sentAtLeast = (n: number) => new Promise<void>((resolve) => (sent >= n ? resolve() : progress.push({ n, resolve })));
    const sending = Promise.all(
      [alice, carol].map(async (u) => {
        for (let i = 0; i < perSender; i++) {
          await api.send(u, groupId, `${u.username} ${i}`);
          sent++;
          for (const p of progress.filter((w) => sent >= w.n)) p.resolve();
        }
      }),
    );

    await first.events.until((e) => created(e).length >= 8);
    const open = await activeSubscriptions(api);
    await first.client.dispose();
    const firstSeqs = first.events.seqs();
    const lastSeen = Math.max(...firstSeqs);
    // The server has let go of the old subscription (and, unanchored, of the group's feed).
    await eventually(async () => (await activeSubscriptions(api)) === open - 1);
    await sentAtLeast(20);
    const resumed = new EventCollector(api.ws(bob.token), groupId, lastSeen, EVENT_SELECTION);
    const sentWhenResumed = sent;
    await sending;
    const end = await lastSeq(api, groupId);
    await resumed.until((e) => e.some((x) => x.seq === end));

    expect(sentWhenResumed).toBeLessThan(2 * perSender);
    expect(resumed.seqs()).toEqual(range(lastSeen + 1, end));
    expect(resumed.errors).toEqual([]);
    const union = [...firstSeqs, ...resumed.seqs()];
    expect(union).toEqual(range(first.since, end));
    if (anchor) {
      await anchor.events.until((e) => e.some((x) => x.seq === end));
      expect(anchor.events.seqs()).toEqual(range(anchor.since, end));
    }
  });

  it('does not repeat events that were in the replay but reach the feed late, as over a slow bus', async () => {
    const { users: [alice, bob, carol], groupId } = await group(3);
    const anchor = await liveSubscription(api, carol, groupId);
    const lastSeen = await lastSeq(api, groupId);
    const hub = api.app.services.hub;
    const publish = hub.publish.bind(hub);
    const held: Array<Parameters<typeof publish>[0]> = [];
    hub.publish = (events) => void held.push(events);
    let resumed: EventCollector;
    try {
      const late = [await api.send(alice, groupId, 'late 1'), await api.send(carol, groupId, 'late 2')];
      resumed = new EventCollector(api.ws(bob.token), groupId, lastSeen, EVENT_SELECTION);
      await resumed.until(hasMessage(late[1].id));
    } finally {
      hub.publish = publish;
    }
    for (const events of held) publish(events);
    const after = await api.send(alice, groupId, 'after');
    await Promise.all([resumed!.until(hasMessage(after.id)), anchor.events.until(hasMessage(after.id))]);
    expect(resumed!.seqs()).toEqual(range(lastSeen + 1, after.seq));
    expect(anchor.events.seqs()).toEqual(range(anchor.since, after.seq));
  });

  it('replays a backlog larger than the subscriber queue (1100 missed events, queue of 1000) in full', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const lastSeen = await lastSeq(api, groupId);
    for (let batch = 0; batch < 44; batch++) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => api.send(alice, groupId, `backlog ${batch * 25 + i}`)));
    }
    const end = await lastSeq(api, groupId);
    expect(end - lastSeen).toBe(1100);
    const resumed = new EventCollector(api.ws(bob.token), groupId, lastSeen, 'seq');
    await resumed.until((e) => e.some((x) => x.seq === end), 30_000);
    expect(subscriptionErrors(resumed)).toEqual([]);
    expect(resumed.seqs()).toEqual(range(lastSeen + 1, end));
    // And it is live afterwards.
    const next = await api.send(alice, groupId, 'after the backlog');
    await resumed.until((e) => e.some((x) => x.seq === next.seq));
    expect(resumed.seqs()).toEqual(range(lastSeen + 1, next.seq));
  });

  it('replays edited and deleted messages in their current state (tombstones)', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const selection = 'seq type message { id body status editedAt deletedAt }';
    const first = await liveSubscription(api, bob, groupId, selection);
    const m1 = await api.send(alice, groupId, 'draft');
    const m2 = await api.send(alice, groupId, 'oops');
    await first.events.until(hasMessage(m2.id));
    await first.client.dispose();
    const lastSeen = m2.seq;

    await api.ok(alice.token, `mutation($m: ID!) { editMessage(messageId: $m, body: "final") { id } }`, { m: m1.id });
    await api.ok(alice.token, `mutation($m: ID!) { deleteMessage(messageId: $m) { id } }`, { m: m2.id });

    const resumed = new EventCollector(api.ws(bob.token), groupId, lastSeen, selection);
    await resumed.until((e) => e.some((x) => x.type === 'MESSAGE_DELETED'));
    expect(resumed.events).toEqual([
      { seq: lastSeen + 1, type: 'MESSAGE_UPDATED', message: { id: m1.id, body: 'final', status: 'SENT', editedAt: expect.any(String), deletedAt: null } },
      { seq: lastSeen + 2, type: 'MESSAGE_DELETED', message: { id: m2.id, body: '', status: 'DELETED', editedAt: null, deletedAt: expect.any(String) } },
    ]);

    // Replaying from before the messages shows their creation in the current state too.
    const full = new EventCollector(api.ws(bob.token), groupId, m1.seq - 1, selection);
    await full.until((e) => e.some((x) => x.seq === lastSeen + 2));
    expect(full.events.slice(0, 2)).toEqual([
      { seq: m1.seq, type: 'MESSAGE_CREATED', message: { id: m1.id, body: 'final', status: 'SENT', editedAt: expect.any(String), deletedAt: null } },
      { seq: m2.seq, type: 'MESSAGE_CREATED', message: { id: m2.id, body: '', status: 'DELETED', editedAt: null, deletedAt: expect.any(String) } },
    ]);
  });

  it('refuses afterSeq beyond the group’s last seq with BAD_USER_INPUT', async () => {
    const { users: [alice], groupId } = await group(2);
    const last = await lastSeq(api, groupId);
    const ahead = new EventCollector(api.ws(alice.token), groupId, last + 1, EVENT_SELECTION);
    const negative = new EventCollector(api.ws(alice.token), groupId, -1, EVENT_SELECTION);
    await Promise.all([ahead.untilDone(), negative.untilDone()]);
    expect(subscriptionErrors(ahead).map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(subscriptionErrors(negative).map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    // At the last seq exactly is fine: nothing to replay, then live. Whether the message
    // commits before or after the subscription is registered, it arrives exactly once.
    const atEnd = new EventCollector(api.ws(alice.token), groupId, last, EVENT_SELECTION);
    const m = await api.send(alice, groupId, 'after');
    await atEnd.until(hasMessage(m.id));
    expect(atEnd.seqs()).toEqual([last + 1]);
  });
});

describe('departures', () => {
  it.each([
    ['is removed', 'MEMBER_REMOVED'],
    ['leaves', 'MEMBER_LEFT'],
  ])('a member who %s gets that event last, nothing after it, and the subscription completes', async (how, type) => {
    const { users: [alice, bob, carol], groupId } = await group(3);
    const bobSub = await liveSubscription(api, bob, groupId);
    const carolSub = await liveSubscription(api, carol, groupId);

    // Messages race the departure; whichever take later seqs must never reach bob.
    const [, ...racing] = await Promise.all([
      how === 'is removed' ? api.ok(alice.token, REMOVE, { g: groupId, u: bob.id }) : api.ok(bob.token, LEAVE, { g: groupId }),
      ...Array.from({ length: 5 }, (_, i) => api.send(alice, groupId, `racing ${i}`)),
    ]);
    const after = [await api.send(alice, groupId, 'after 1'), await api.send(carol, groupId, 'after 2')];
    await carolSub.events.until((e) => [...racing, ...after].every((m) => hasMessage(m.id)(e)));
    await bobSub.events.untilDone();

    const [departure] = await api.query<{ seq: number }>(`SELECT seq::int AS seq FROM group_events WHERE group_id = $1 AND type = $2`, [groupId, type]);
    const bobEvents = bobSub.events.events.filter((e) => e.seq > bobSub.since);
    expect(bobEvents.at(-1)).toMatchObject({ seq: departure.seq, type, member: { user: { id: bob.id } } });
    expect(bobEvents.map((e) => e.seq)).toEqual(range(bobSub.since + 1, departure.seq));
    expect(bobEvents.some((e) => after.some((m) => e.message?.id === m.id))).toBe(false);
    expect(subscriptionErrors(bobSub.events)).toEqual([]);
    // Carol saw the departure and everything after it.
    expect(carolSub.events.seqs()).toEqual(range(carolSub.since, await lastSeq(api, groupId)));
  });

  it('does not end a new member’s subscription when a typing event overtakes the news of their join', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const [carol] = await api.users(1);
    const keepOpen = await liveSubscription(api, bob, groupId);
    // Hold back MEMBER_JOINED on its way to the feed, as a slow bus would.
    const hub = api.app.services.hub;
    const publish = hub.publish.bind(hub);
    const held: Array<Parameters<typeof publish>[0]> = [];
    hub.publish = (events) => (events.some((e) => e.type === 'MEMBER_JOINED') ? void held.push(events) : publish(events));
    let carolSub: EventCollector;
    try {
      await api.ok(alice.token, ADD, { g: groupId, u: [carol.username] });
      const joinedAt = await lastSeq(api, groupId);
      // Carol resumes from before her join: the replay shows it to her at once.
      carolSub = new EventCollector(api.ws(carol.token), groupId, joinedAt - 1, EVENT_SELECTION);
      await carolSub.until((e) => e.some((x) => x.seq === joinedAt));
      await api.ok(alice.token, `mutation($g: ID!) { setTyping(groupId: $g, isTyping: true) }`, { g: groupId });
      await keepOpen.events.until((e) => e.some((x) => x.type === 'TYPING'));
    } finally {
      hub.publish = publish;
    }
    for (const events of held) publish(events);
    const m = await api.send(alice, groupId, 'welcome carol');
    await carolSub!.until(hasMessage(m.id));
    expect(carolSub!.completed).toBe(false);
  });

  it('a removed member cannot resubscribe, with or without afterSeq', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const before = await lastSeq(api, groupId);
    await api.ok(alice.token, REMOVE, { g: groupId, u: bob.id });
    const fresh = new EventCollector(api.ws(bob.token), groupId, undefined, EVENT_SELECTION);
    const resumed = new EventCollector(api.ws(bob.token), groupId, before, EVENT_SELECTION);
    await Promise.all([fresh.untilDone(), resumed.untilDone()]);
    for (const c of [fresh, resumed]) {
      expect(subscriptionErrors(c).map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(c.events.filter((e) => e.seq != null)).toEqual([]);
    }
  });
});

describe('access', () => {
  it('gives a non-member the same NOT_FOUND for a real group as for a random id', async () => {
    const { groupId } = await group(2);
    const [outsider] = await api.users(1);
    const real = new EventCollector(api.ws(outsider.token), groupId, undefined, EVENT_SELECTION);
    const random = new EventCollector(api.ws(outsider.token), randomUUID(), undefined, EVENT_SELECTION);
    const realReplay = new EventCollector(api.ws(outsider.token), groupId, 0, EVENT_SELECTION);
    await Promise.all([real.untilDone(), random.untilDone(), realReplay.untilDone()]);
    const strip = (c: EventCollector) => subscriptionErrors(c).map((e) => ({ message: e.message, code: e.extensions?.code }));
    expect(strip(real)).toEqual([{ message: 'Group not found', code: 'NOT_FOUND' }]);
    expect(strip(random)).toEqual(strip(real));
    expect(strip(realReplay)).toEqual(strip(real));
  });

  it('refuses a subscription without closing the socket: other subscriptions on it go on', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const client = api.ws(bob.token);
    const since = await lastSeq(api, groupId);
    const live = new EventCollector(client, groupId, since - 1, EVENT_SELECTION);
    await live.until((e) => e.some((x) => x.seq === since));
    const refused = new EventCollector(client, randomUUID(), undefined, EVENT_SELECTION);
    await refused.untilDone();
    expect(subscriptionErrors(refused).map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    const m = await api.send(alice, groupId, 'still here?');
    await live.until(hasMessage(m.id));
    expect(live.completed).toBe(false);
  });

  it('publishes nothing for a sendMessage that fails: events go out only after commit', async () => {
    const { users: [alice, bob], groupId } = await group(2);
    const other = await api.group(alice);
    const foreign = await api.send(alice, other, 'elsewhere');
    const sub = await liveSubscription(api, bob, groupId);

    const failed = await api.gql(alice.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, {
      i: { groupId, body: 'reply to nowhere', clientMessageId: randomUUID(), replyToId: foreign.id },
    });
    expect(failed.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const ok = await api.send(alice, groupId, 'this one commits');
    await sub.events.until(hasMessage(ok.id));
    const live = sub.events.events.filter((e) => e.seq === null || e.seq > sub.since);
    expect(live.map((e) => [e.seq, e.type, e.message?.id])).toEqual([[sub.since + 1, 'MESSAGE_CREATED', ok.id]]);
  });
});

describe('graphql-ws protocol', () => {
  let strict: TestApi;
  beforeAll(async () => {
    strict = await startApi({ WS_INIT_TIMEOUT_MS: '300' });
  });
  afterAll(() => strict.stop());

  const rawSocket = () => new WebSocket(strict.wsUrl, 'graphql-transport-ws');
  const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  it('closes a socket that sends no connection_init with 4408', async () => {
    const ws = rawSocket();
    const done = closed(ws);
    await opened(ws);
    expect((await done).code).toBe(4408);
  });

  it('closes a socket that subscribes before connection_init with 4401', async () => {
    const ws = rawSocket();
    const done = closed(ws);
    await opened(ws);
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { groupEvents(groupId: "${randomUUID()}") { seq } }` } }));
    expect((await done).code).toBe(4401);
  });

  it('closes a socket whose connection_init carries no valid token with 4403', async () => {
    const ws = rawSocket();
    const done = closed(ws);
    await opened(ws);
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-jwt' } }));
    expect((await done).code).toBe(4403);
  });
});

describe('a subscriber that falls behind', () => {
  let slow: TestApi;
  beforeAll(async () => {
    // The queue's bound (10 events) is what these tests are about: the byte bounds of a socket
    // and of a user (ws-memory.test.ts) would otherwise race it, closing the socket before the
    // RATE_LIMITED error can be sent, depending on how much the kernel's buffers took.
    slow = await startApi({
      WS_MAX_QUEUED_EVENTS: '10',
      MAX_MESSAGE_LENGTH: '100000',
      HTTP_BODY_LIMIT_BYTES: '1000000',
      WS_MAX_BUFFERED_BYTES: String(1024 ** 3),
      WS_MAX_BUFFERED_BYTES_PER_USER: String(1024 ** 3),
    });
  });
  afterAll(() => slow.stop());

  it('is ended with RATE_LIMITED and resumes from what it got with afterSeq, through a replay larger than its queue', async () => {
    const [alice, bob] = await slow.users(2);
    const groupId = await slow.group(alice, [bob]);
    const since = await lastSeq(slow, groupId);

    const { ws, frame, subscribe, seqs } = await rawClient(slow, bob.token);
    subscribe('slow', groupId, since - 1, 'seq message { body }');
    await frame((f) => f.id === 'slow' && f.payload?.data?.groupEvents?.seq === since);
    expect(await activeSubscriptions(slow)).toBe(1);

    // Bob stops reading: the socket buffers fill, the server's sends stall and his queue grows
    // until the server gives up on him.
    (ws as any)._socket.pause();
    const big = '😀'.repeat(100_000); // 400 kB of UTF-8 per event
    let sent = 0;
    while ((await activeSubscriptions(slow)) > 0) {
      if (++sent > 300) throw new Error('the subscription was never ended');
      await slow.send(alice, groupId, big);
    }
    (ws as any)._socket.resume();

    const end = await frame((f) => f.id === 'slow' && (f.type === 'error' || f.type === 'complete'));
    expect(end.type).toBe('error');
    expect(end.payload).toEqual([{ message: expect.stringMatching(/resubscribe with afterSeq/), extensions: { code: 'RATE_LIMITED' } }]);
    const got = seqs('slow');
    expect(got).toEqual(range(since, got.at(-1)));

    // The same socket resumes after the last event it got and receives the rest, gap-free.
    const last = await lastSeq(slow, groupId);
    subscribe('resume', groupId, got.at(-1), 'seq');
    await frame((f) => f.id === 'resume' && f.payload?.data?.groupEvents?.seq === last);
    const resumed = seqs('resume');
    expect(resumed).toEqual(range(got.at(-1) + 1, last));
    ws.close();
  });

  it('is ended with RATE_LIMITED when it stops reading during its replay and live events pile up', async () => {
    const [alice, bob] = await slow.users(2);
    const groupId = await slow.group(alice, [bob]);
    const since = await lastSeq(slow, groupId);
    const big = '😀'.repeat(100_000);
    // A backlog far larger than the socket buffers and the queue together.
    for (let i = 0; i < 40; i++) await slow.send(alice, groupId, big);

    // The test before closed its socket without waiting: count from none, not from whatever
    // that socket's subscription still counted.
    await eventually(async () => (await activeSubscriptions(slow)) === 0, 30_000);
    const { ws, frame, subscribe } = await rawClient(slow, bob.token);
    (ws as any)._socket.pause();
    subscribe('stalled', groupId, since, 'seq message { body }');
    await eventually(async () => (await activeSubscriptions(slow)) === 1, 30_000);
    // The replay waits on the unread socket, so live events are held for after it: as many as
    // the queue's bound (WS_MAX_QUEUED_EVENTS = 10) are held, one more ends the subscription.
    for (let live = 1; live <= 10; live++) await slow.send(alice, groupId, `live ${live}`);
    expect(await activeSubscriptions(slow)).toBe(1);
    await slow.send(alice, groupId, 'live 11');
    await eventually(async () => (await activeSubscriptions(slow)) === 0, 30_000);
    (ws as any)._socket.resume();
    const end = await frame((f) => f.id === 'stalled' && (f.type === 'error' || f.type === 'complete'));
    expect(end.payload).toEqual([{ message: expect.stringMatching(/resubscribe with afterSeq/), extensions: { code: 'RATE_LIMITED' } }]);
    ws.close();
  });
});
