/**
 * Group commit on the send path (issue 13, item 4; messages/send-batch.ts). Sends that
 * arrive while a send statement runs are stored together when it ends. Every rule of a
 * send holds inside a batch: per-group seq order, idempotency, membership, a full group.
 * Each test runs with SEND_BATCHING on and off. With it on, the test holds the groups'
 * rows so that the sends really wait for each other, and checks that the batches formed.
 */
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { errorCodes, eventually, startApi, TestApi, TestUser } from './support/harness';

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq body author { id } } }`;
/** sendMessage beside another field: sent by the user's id, after the request read the user. */
const SEND_BESIDE_READ = `mutation($i: SendMessageInput!, $g: ID!) { sendMessage(input: $i) { id seq body author { id } } markRead(groupId: $g, seq: 0) }`;

describe.each([
  ['on', true],
  ['off', false],
])('group commit %s', (_label, batching) => {
  let api: TestApi;
  beforeAll(async () => {
    // Up to 30 sends of one person at once: the per-user turns (4 by default) would queue them before the send path.
    api = await startApi({ SEND_BATCHING: String(batching), MAX_OPERATIONS_IN_FLIGHT_PER_USER: '32' });
  });
  afterAll(() => api?.stop());

  const send = (user: TestUser, groupId: string, body: string, clientMessageId: string = randomUUID(), beside = false) =>
    api.gql(user.token, beside ? SEND_BESIDE_READ : SEND, { i: { groupId, body, clientMessageId }, ...(beside ? { g: groupId } : {}) });

  const waitingSends = async () => (await api.app.services.metrics.sendsWaiting.get()).values[0]?.value ?? 0;
  /** How many statements stored `min` to `max` sends so far (the batch-size histogram's buckets). */
  const batchesOf = async (min: number, max: number) => {
    const buckets = (await api.app.services.metrics.sendStatements.get()).values.filter((v) => v.metricName?.endsWith('_bucket'));
    const upTo = (le: number) => buckets.find((b) => b.labels.le === le)?.value ?? 0;
    const below = [1, 2, 4, 8, 16, 32, 64].filter((le) => le < min).pop();
    return upTo(max) - (below === undefined ? 0 : upTo(below));
  };

  /**
   * Holds the rows of the groups `first` sends to (one send each), fires `first`, and once
   * each of those waits in PostgreSQL, fires `rest`: with batching they all wait in the
   * process, for a running statement. Then lets go, and returns every result, `first`'s first.
   */
  async function whileHeld(held: string[], first: () => Array<Promise<any>>, rest: () => Array<Promise<any>>): Promise<any[]> {
    const holder = new PgClient({ connectionString: api.databaseUrl });
    await holder.connect();
    const lockWaiters = async () =>
      (await holder.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM groups WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [held]);
      const blocked = first();
      await eventually(async () => (await lockWaiters()) >= blocked.length, 20_000);
      const queued = rest();
      if (batching) await eventually(async () => (await waitingSends()) >= queued.length, 20_000);
      await holder.query('COMMIT');
      return await Promise.all([...blocked, ...queued]);
    } finally {
      await holder.end();
    }
  }

  const lastSeq = async (groupId: string) => (await api.query<{ s: number }>(`SELECT last_seq::int AS s FROM groups WHERE id = $1`, [groupId]))[0].s;

  /** Each send acknowledged once, with the seq and id it has in the database, one event each, and the group's seqs contiguous. */
  async function expectStoredContiguously(groupId: string, from: number, results: any[]): Promise<void> {
    expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));
    const acks = results.map((r) => r.data.sendMessage).sort((a, b) => a.seq - b.seq);
    expect(acks.map((a) => a.seq)).toEqual(acks.map((_, i) => from + i + 1));
    const stored = await api.query<{ id: string; seq: number; body: string }>(`SELECT id, seq::int AS seq, body FROM messages WHERE group_id = $1 AND seq > $2 ORDER BY seq`, [groupId, from]);
    expect(stored).toEqual(acks.map(({ id, seq, body }) => ({ id, seq, body })));
    const events = await api.query<{ seq: number; message: string }>(
      `SELECT seq::int AS seq, message_id AS message FROM group_events WHERE group_id = $1 AND seq > $2 AND type = 'MESSAGE_CREATED' ORDER BY seq`,
      [groupId, from],
    );
    expect(events).toEqual(acks.map(({ id, seq }) => ({ seq, message: id })));
    expect(await lastSeq(groupId)).toBe(from + acks.length);
  }

  it('a send alone goes at once, in a statement of its own', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const alone = await batchesOf(1, 1);
    const r = await send(alice, groupId, 'just me');
    expect(r.errors).toBeUndefined();
    expect(await batchesOf(1, 1)).toBe(alone + (batching ? 1 : 0));
    expect(await waitingSends()).toBe(0);
  });

  it('one group: 30 parallel sends, by claims, by id and with changed claims, get contiguous seqs, one event each', async () => {
    const [alice, bob, carol] = await api.users(3);
    const groupId = await api.group(alice, [bob, carol]);
    // Carol's plan changed at the identity provider: her row no longer matches the token, so the request upserts it first.
    const upgraded = { ...carol, token: await api.token({ sub: carol.sub, plan: 'pro' }) };
    const from = await lastSeq(groupId);
    const big = await batchesOf(17, 32);
    const results = await whileHeld(
      [groupId],
      () => [send(alice, groupId, 'alice 0')],
      () => [
        ...Array.from({ length: 9 }, (_, i) => send(alice, groupId, `alice ${i + 1}`)),
        ...Array.from({ length: 10 }, (_, i) => send(bob, groupId, `bob ${i}`, randomUUID(), true)),
        ...Array.from({ length: 10 }, (_, i) => send(upgraded, groupId, `carol ${i}`)),
      ],
    );
    await expectStoredContiguously(groupId, from, results);
    expect(results.slice(20).map((r) => r.data.sendMessage.author.id)).toEqual(Array(10).fill(carol.id));
    expect(await api.query(`SELECT plan FROM users WHERE id = $1`, [carol.id])).toEqual([{ plan: 'pro' }]);
    if (batching) expect(await batchesOf(17, 32)).toBeGreaterThan(big);
  });

  it('several groups in one statement: each keeps its own contiguous seqs', async () => {
    const users = await api.users(12);
    const groups = await Promise.all(Array.from({ length: 6 }, (_, g) => api.group(users[2 * g], [users[2 * g + 1]])));
    const [held, free] = [groups.slice(0, 4), groups.slice(4)];
    const from = await Promise.all(groups.map(lastSeq));
    const big = await batchesOf(17, 32);
    // One send to each held group takes every statement slot; then 10 sends to each free group wait for one.
    const all = await whileHeld(
      held,
      () => held.map((g, k) => send(users[2 * k], g, `group ${k} message 0`)),
      () => free.flatMap((g, f) => Array.from({ length: 10 }, (_, i) => send(users[2 * (4 + f) + (i % 2)], g, `group ${4 + f} message ${i}`))),
    );
    const results = [...all.slice(0, 4).map((r) => [r]), all.slice(4, 14), all.slice(14)];
    for (const [k, g] of groups.entries()) await expectStoredContiguously(g, from[k], results[k]);
    if (batching) expect(await batchesOf(17, 32)).toBeGreaterThan(big);
  });

  it('one clientMessageId sent 10 times at once stores one message, and each retry gets it; another body with it is refused', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const key = randomUUID();
    const from = await lastSeq(groupId);
    const results = await whileHeld(
      [groupId],
      () => [send(alice, groupId, 'once', key)],
      () => Array.from({ length: 9 }, (_, i) => send(alice, groupId, 'once', key, i % 2 === 0)),
    );
    expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));
    const ids = new Set(results.map((r) => r.data.sendMessage.id));
    expect(ids.size).toBe(1);
    expect(results.map((r) => r.data.sendMessage.seq)).toEqual(Array(10).fill(from + 1));
    expect(await api.query(`SELECT count(*)::int AS n FROM group_events WHERE group_id = $1 AND seq > $2`, [groupId, from])).toEqual([{ n: 1 }]);

    const reused = await Promise.all([send(alice, groupId, 'twice', key), send(alice, groupId, 'once', key)]);
    expect(errorCodes(reused[0])).toEqual(['BAD_USER_INPUT']);
    expect(reused[1].data.sendMessage.id).toBe([...ids][0]);
    expect(await lastSeq(groupId)).toBe(from + 1);
  });

  it("a removed member's sends are refused with NOT_FOUND, the members' sends beside them stored", async () => {
    const [alice, bob, carol] = await api.users(3);
    const groupId = await api.group(alice, [bob, carol]);
    await api.ok(alice.token, `mutation($g: ID!, $u: ID!) { removeMember(groupId: $g, userId: $u) { id } }`, { g: groupId, u: carol.id });
    const from = await lastSeq(groupId);
    const results = await whileHeld(
      [groupId],
      () => [send(alice, groupId, 'alice 0')],
      () => Array.from({ length: 9 }, (_, k) => k + 1).map((i) => (i % 2 === 0 ? send(alice, groupId, `alice ${i}`) : send(carol, groupId, `carol ${i}`, randomUUID(), i % 4 === 1))),
    );
    const [members, removed] = [results.filter((_, i) => i % 2 === 0), results.filter((_, i) => i % 2 === 1)];
    expect(removed.map(errorCodes)).toEqual(Array(5).fill(['NOT_FOUND']));
    await expectStoredContiguously(groupId, from, members);
    expect(await api.query(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1 AND author_id = $2`, [groupId, carol.id])).toEqual([{ n: 0 }]);
  });

  it('a batch that fails as a whole is stored one send at a time: each send gets its own answer', async () => {
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    // A trigger refuses one body: a statement holding that send fails, the sends beside it must not.
    await api.query(`CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN IF NEW.body = 'boom' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await api.query(`CREATE TRIGGER refuse_boom BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_boom()`);
    try {
      const fallbacks = async () => (await api.app.services.metrics.sendBatchFallbacks.get()).values[0]?.value ?? 0;
      const before = await fallbacks();
      const from = await lastSeq(groupId);
      const results = await whileHeld(
        [groupId],
        () => [send(alice, groupId, 'one')],
        () => [send(alice, groupId, 'two'), send(bob, groupId, 'boom'), send(bob, groupId, 'three', randomUUID(), true)],
      );
      expect(results[2].errors).toHaveLength(1);
      expect(results[2].errors[0].message).not.toMatch(/refused|trigger|messages/);
      await expectStoredContiguously(groupId, from, [results[0], results[1], results[3]]);
      expect(await fallbacks()).toBe(before + (batching ? 1 : 0));
    } finally {
      await api.query(`DROP TRIGGER refuse_boom ON messages`);
      await api.query(`DROP FUNCTION refuse_boom()`);
    }
  });

  it('a full group of 20: every member sends at once, and every message is stored in order', async () => {
    const members = await api.users(20);
    const groupId = await api.group(members[0], members.slice(1));
    const from = await lastSeq(groupId);
    const results = await whileHeld(
      [groupId],
      () => [send(members[0], groupId, 'member 0')],
      () => members.slice(1).map((m, i) => send(m, groupId, `member ${i + 1}`)),
    );
    await expectStoredContiguously(groupId, from, results);
    expect(new Set(results.map((r) => r.data.sendMessage.author.id))).toEqual(new Set(members.map((m) => m.id)));
  });
});
