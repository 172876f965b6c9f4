import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { errorCodes, eventually, EventCollector, lastSeq, range, startApi, subscriptionErrors, TestApi, TestUser } from './support/harness';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

const SEND = `mutation($i: SendMessageInput!) {
  sendMessage(input: $i) { id seq body status replyToId clientMessageId mentionsAi mentions { id } author { id } }
}`;
const EDIT = `mutation($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id body editedAt mentions { id } mentionsAi } }`;
const DELETE = `mutation($m: ID!) { deleteMessage(messageId: $m) { id body status deletedAt reactions { emoji } } }`;
const ADD_REACTION = `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id reactions { emoji byAi user { id } } } }`;
const REMOVE_REACTION = `mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { id reactions { emoji byAi user { id } } } }`;
const MARK_READ = `mutation($g: ID!, $s: Int!) { markRead(groupId: $g, seq: $s) }`;
const MEMBERSHIP = `query($g: ID!) { group(id: $g) { myMembership { unreadCount lastReadSeq } } }`;
const HISTORY = `query($g: ID!, $first: Int, $before: String, $after: String) {
  messages(groupId: $g, first: $first, before: $before, after: $after) {
    edges { cursor node { id seq body } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

const sendInput = (groupId: string, body: string, extra: Record<string, unknown> = {}) => ({
  i: { groupId, body, clientMessageId: randomUUID(), ...extra },
});

async function messageCount(groupId: string): Promise<number> {
  const [r] = await api.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1`, [groupId]);
  return r.n;
}

async function twoMemberGroup(): Promise<{ alice: TestUser; bob: TestUser; groupId: string }> {
  const [alice, bob] = await api.users(2);
  return { alice, bob, groupId: await api.group(alice, [bob]) };
}

/**
 * Runs `fire` while the test holds the group row, and lets go once `inFlight` statements
 * wait for it: the requests then really race in PostgreSQL instead of arriving one by one.
 * (A process may queue sends to one group before the database, so races between
 * statements take several API processes.)
 */
async function releasedTogether<T>(groupId: string, inFlight: number, fire: () => Promise<T>): Promise<T> {
  const holder = new PgClient({ connectionString: api.databaseUrl });
  const watcher = new PgClient({ connectionString: api.databaseUrl });
  await Promise.all([holder.connect(), watcher.connect()]);
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM groups WHERE id = $1 FOR UPDATE', [groupId]);
    const result = fire();
    await eventually(async () => {
      const { rows } = await watcher.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0].n >= inFlight;
    }, 10_000);
    await holder.query('COMMIT');
    return await result;
  } finally {
    await Promise.all([holder.end(), watcher.end()]);
  }
}

describe('sendMessage', () => {
  /** A second API process on the same database, as in a deployment with several instances. */
  let peer: TestApi;
  beforeAll(async () => {
    peer = await startApi({}, api.databaseUrl);
  });
  afterAll(() => peer.stop());

  it('10 parallel sends with one clientMessageId create exactly one message and one event, across two API processes', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const clientMessageId = randomUUID();
    const before = await lastSeq(api, groupId);
    const results = await releasedTogether(groupId, 2, () =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? peer : api).gql(alice.token, SEND, { i: { groupId, body: 'only once', clientMessageId } })),
      ),
    );
    for (const r of results) expect(r.errors).toBeUndefined();
    const ids = new Set(results.map((r) => r.data.sendMessage.id));
    expect(ids.size).toBe(1);
    expect(new Set(results.map((r) => r.data.sendMessage.seq))).toEqual(new Set([before + 1]));
    const [id] = [...ids];
    const rows = await api.query(`SELECT id FROM messages WHERE group_id = $1 AND client_message_id = $2`, [groupId, clientMessageId]);
    expect(rows).toEqual([{ id }]);
    const events = await api.query(`SELECT seq::int AS seq FROM group_events WHERE group_id = $1 AND type = 'MESSAGE_CREATED'`, [groupId]);
    expect(events).toEqual([{ seq: before + 1 }]);
    expect(await lastSeq(api, groupId)).toBe(before + 1);
  });

  it('a retry with the same clientMessageId and the same message returns the original', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const clientMessageId = randomUUID();
    const first = await api.ok(alice.token, SEND, { i: { groupId, body: 'original', clientMessageId } });
    const retry = await api.ok(alice.token, SEND, { i: { groupId, body: 'original', clientMessageId } });
    expect(retry.sendMessage).toEqual(first.sendMessage);
    expect(await messageCount(groupId)).toBe(1);
  });

  it('reusing a clientMessageId for a different body or reply target is refused with BAD_USER_INPUT, and nothing changes', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const clientMessageId = randomUUID();
    const first = await api.ok(alice.token, SEND, { i: { groupId, body: 'original', clientMessageId } });
    const otherBody = await api.gql(alice.token, SEND, { i: { groupId, body: 'changed', clientMessageId } });
    expect(errorCodes(otherBody)).toEqual(['BAD_USER_INPUT']);
    expect(otherBody.errors![0].message).toMatch(/clientMessageId/);
    const otherTarget = await api.gql(alice.token, SEND, { i: { groupId, body: 'original', clientMessageId, replyToId: first.sendMessage.id } });
    expect(errorCodes(otherTarget)).toEqual(['BAD_USER_INPUT']);
    expect(await messageCount(groupId)).toBe(1);
    const [stored] = await api.query(`SELECT body FROM messages WHERE id = $1`, [first.sendMessage.id]);
    expect(stored).toEqual({ body: 'original' });
  });

  it('a retry of a message edited since is still answered with it: the edit, not the retry, changed the text', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const clientMessageId = randomUUID();
    const first = await api.ok(alice.token, SEND, { i: { groupId, body: 'original', clientMessageId } });
    await api.ok(alice.token, `mutation($m: ID!) { editMessage(messageId: $m, body: "edited") { id } }`, { m: first.sendMessage.id });
    const retry = await api.ok(alice.token, SEND, { i: { groupId, body: 'original', clientMessageId } });
    expect(retry.sendMessage).toMatchObject({ id: first.sendMessage.id, body: 'edited' });
  });

  it('keeps seq unique, contiguous and in send order per sender under 5 concurrent senders x 20 messages', async () => {
    const senders = await api.users(5);
    const [owner, ...others] = senders;
    const groupId = await api.group(owner, others);
    const start = await lastSeq(api, groupId);
    const perSender = await Promise.all(
      senders.map(async (u, s) => {
        const sent: Array<{ id: string; seq: number }> = [];
        for (let i = 0; i < 20; i++) sent.push(await api.send(u, groupId, `sender ${s} message ${i}`));
        return sent;
      }),
    );
    const all = perSender.flat();
    const total = start + all.length;
    // Each sender's messages take increasing seqs in the order they were sent.
    for (const sent of perSender) {
      const seqs = sent.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(new Set(all.map((m) => m.seq)).size).toBe(all.length);
    const events = await api.query<{ seq: number; type: string; messageId: string | null }>(
      `SELECT seq::int AS seq, type, message_id AS "messageId" FROM group_events WHERE group_id = $1 ORDER BY seq`,
      [groupId],
    );
    expect(events.map((e) => e.seq)).toEqual(range(1, total));
    expect(await lastSeq(api, groupId)).toBe(total);
    // Every message shares its seq with its MESSAGE_CREATED event.
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    for (const m of all) expect(bySeq.get(m.seq)).toMatchObject({ type: 'MESSAGE_CREATED', messageId: m.id });
    const stored = await api.query<{ seq: number }>(`SELECT seq::int AS seq FROM messages WHERE group_id = $1 ORDER BY seq`, [groupId]);
    expect(stored.map((r) => r.seq)).toEqual(all.map((m) => m.seq).sort((a, b) => a - b));
  });

  it('keeps seq unique and contiguous when 40 sends from two API processes contend for the group row', async () => {
    const senders = await api.users(4);
    const groupId = await api.group(senders[0], senders.slice(1));
    const start = await lastSeq(api, groupId);
    const sent = await releasedTogether(groupId, 2, () =>
      Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? peer : api).send(senders[i % 4], groupId, `contended ${i}`))),
    );
    expect(sent.map((m) => m.seq).sort((a, b) => a - b)).toEqual(range(start + 1, start + 40));
    const events = await api.query<{ seq: number; messageId: string }>(
      `SELECT seq::int AS seq, message_id AS "messageId" FROM group_events WHERE group_id = $1 AND seq > $2 ORDER BY seq`,
      [groupId, start],
    );
    expect(events).toEqual([...sent].sort((a, b) => a.seq - b.seq).map((m) => ({ seq: m.seq, messageId: m.id })));
    expect(await lastSeq(api, groupId)).toBe(start + 40);
  });

  describe('without a user read before it (the statement finds the author by the token claims)', () => {
    const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id author { id username } } }`;
    const input = (groupId: string, body: string) => ({ i: { groupId, body, clientMessageId: randomUUID() } });

    it('reads no user row before a lone sendMessage, and does for anything beside it', async () => {
      const [alice, bob] = await api.users(2);
      const groupId = await api.group(alice, [bob]);
      const reads = jest.spyOn(api.app.services.users, 'upsertFromIdentity');
      try {
        const sent = await api.gql(alice.token, SEND, input(groupId, 'one round trip'));
        expect(sent.errors).toBeUndefined();
        expect(reads).not.toHaveBeenCalled();
        const both = await api.gql(alice.token, `mutation($i: SendMessageInput!, $g: ID!) { sendMessage(input: $i) { id } markRead(groupId: $g, seq: 1) }`, {
          ...input(groupId, 'and a read'),
          g: groupId,
        });
        expect(both.errors).toBeUndefined();
        expect(reads).toHaveBeenCalledTimes(1);
      } finally {
        reads.mockRestore();
      }
    });

    it('applies changed claims first, as every request does, then sends', async () => {
      const [alice, bob] = await api.users(2, { plan: 'free' });
      const groupId = await api.group(alice, [bob]);
      const upgraded = await api.token({ sub: alice.sub, plan: 'pro', region: 'JP' });
      const r = await api.gql(upgraded, SEND, input(groupId, 'on the new plan'));
      expect(r.errors).toBeUndefined();
      expect(r.data.sendMessage.author).toEqual({ id: alice.id, username: alice.username });
      expect(await api.query(`SELECT plan, region FROM users WHERE id = $1`, [alice.id])).toEqual([{ plan: 'pro', region: 'JP' }]);
      // And back: the row follows the token of each request.
      expect((await api.gql(alice.token, SEND, input(groupId, 'back on free'))).errors).toBeUndefined();
      expect(await api.query(`SELECT plan, region FROM users WHERE id = $1`, [alice.id])).toEqual([{ plan: 'free', region: 'DE' }]);
    });

    it('creates the user of a first request and answers NOT_FOUND for a group it is not in', async () => {
      const sub = `first-${randomUUID()}`;
      const token = await api.token({ sub });
      const r = await api.gql(token, SEND, input(randomUUID(), 'hello?'));
      expect(errorCodes(r)).toEqual(['NOT_FOUND']);
      expect(await api.query(`SELECT count(*)::int AS n FROM users WHERE subject = $1`, [sub])).toEqual([{ n: 1 }]);
    });

    it('refuses a suspended author with SUSPENDED and stores nothing, also for a retry of a message sent before', async () => {
      const [alice, bob] = await api.users(2);
      const groupId = await api.group(alice, [bob]);
      const first = input(groupId, 'before the suspension');
      expect((await api.gql(alice.token, SEND, first)).errors).toBeUndefined();
      const count = async () => (await api.query(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1`, [groupId]))[0].n;
      const stored = await count();
      await api.query(`UPDATE users SET suspended_at = now(), suspended_reason = 'test' WHERE id = $1`, [alice.id]);
      expect(errorCodes(await api.gql(alice.token, SEND, input(groupId, 'after')))).toEqual(['SUSPENDED']);
      expect(errorCodes(await api.gql(alice.token, SEND, first))).toEqual(['SUSPENDED']);
      expect(await count()).toBe(stored);
    });

    it('resolves fields that need the viewer on the message it returns', async () => {
      const [alice, bob] = await api.users(2);
      const groupId = await api.group(alice, [bob]);
      const r = await api.gql(alice.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id author { id } reactions { emoji } } }`, input(groupId, 'hi'));
      expect(r.errors).toBeUndefined();
      expect(r.data.sendMessage).toMatchObject({ author: { id: alice.id }, reactions: [] });
    });
  });

  it('accepts a body of exactly 8000 characters and refuses 8001 with BAD_USER_INPUT, storing nothing', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const before = await lastSeq(api, groupId);
    const tooLong = await api.gql(alice.token, SEND, sendInput(groupId, 'x'.repeat(8001)));
    expect(errorCodes(tooLong)).toEqual(['BAD_USER_INPUT']);
    expect(await messageCount(groupId)).toBe(0);
    expect(await lastSeq(api, groupId)).toBe(before);

    const atLimit = await api.ok(alice.token, SEND, sendInput(groupId, 'y'.repeat(8000)));
    expect(atLimit.sendMessage.body).toHaveLength(8000);
    expect(await messageCount(groupId)).toBe(1);
  });

  it('counts the length in characters, not UTF-16 units: 8000 emoji are accepted', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const r = await api.ok(alice.token, SEND, sendInput(groupId, '😀'.repeat(8000)));
    expect([...r.sendMessage.body]).toHaveLength(8000);
  });

  it.each([
    ['an empty', ''],
    ['a whitespace-only', ' \n\t  '],
  ])('refuses %s body with BAD_USER_INPUT and stores nothing', async (_name, body) => {
    const { alice, groupId } = await twoMemberGroup();
    const before = await lastSeq(api, groupId);
    const r = await api.gql(alice.token, SEND, sendInput(groupId, body));
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(await messageCount(groupId)).toBe(0);
    expect(await lastSeq(api, groupId)).toBe(before);
  });

  it('refuses a body containing a NUL character with BAD_USER_INPUT rather than failing internally', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const r = await api.gql(alice.token, SEND, sendInput(groupId, 'before\u0000after'));
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(await messageCount(groupId)).toBe(0);
  });

  it('stores a reply to a message of the same group', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const original = await api.send(alice, groupId, 'question?');
    const reply = await api.ok(bob.token, SEND, sendInput(groupId, 'answer', { replyToId: original.id }));
    expect(reply.sendMessage.replyToId).toBe(original.id);
    const [row] = await api.query(`SELECT reply_to_id AS "replyToId" FROM messages WHERE id = $1`, [reply.sendMessage.id]);
    expect(row.replyToId).toBe(original.id);
  });

  it('refuses a reply to a message of another group (or no message) with NOT_FOUND and stores nothing', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const otherGroup = await api.group(alice);
    const foreign = await api.send(alice, otherGroup, 'elsewhere');
    const before = await lastSeq(api, groupId);

    const cross = await api.gql(alice.token, SEND, sendInput(groupId, 'reply', { replyToId: foreign.id }));
    const missing = await api.gql(alice.token, SEND, sendInput(groupId, 'reply', { replyToId: randomUUID() }));
    expect(errorCodes(cross)).toEqual(['NOT_FOUND']);
    expect(cross.errors![0].message).toBe(missing.errors![0].message);
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    expect(await messageCount(groupId)).toBe(0);
    expect(await lastSeq(api, groupId)).toBe(before);
  });

  it('stores and returns mentions of members and of the AI, and ignores mentions of non-members', async () => {
    const [alice, bob, carol, outsider] = await api.users(4);
    const groupId = await api.group(alice, [bob, carol]);
    const body = `hey @${carol.username} and @${bob.username}, also @${outsider.username} and @nobody_here. @AI what do you think? thanks @${bob.username}.`;
    const r = await api.ok(alice.token, SEND, sendInput(groupId, body));
    expect(r.sendMessage.mentions).toEqual([{ id: carol.id }, { id: bob.id }]);
    expect(r.sendMessage.mentionsAi).toBe(true);
    const [row] = await api.query(`SELECT mention_user_ids AS ids, mentions_ai AS ai FROM messages WHERE id = $1`, [r.sendMessage.id]);
    expect(row).toEqual({ ids: [carol.id, bob.id], ai: true });

    // The mention makes the AI answer too (with no provider here, its reply fails): only people's messages count.
    const history = await api.ok(bob.token, `query($g: ID!) { messages(groupId: $g) { edges { node { id kind mentions { id } mentionsAi } } } }`, { g: groupId });
    const people = history.messages.edges.map((e: any) => e.node).filter((n: any) => n.kind === 'USER');
    expect(people).toEqual([{ id: r.sendMessage.id, kind: 'USER', mentions: [{ id: carol.id }, { id: bob.id }], mentionsAi: true }]);

    const plain = await api.ok(alice.token, SEND, sendInput(groupId, 'no mentions; mail me at a@b.c'));
    expect(plain.sendMessage).toMatchObject({ mentions: [], mentionsAi: false });
  });
});

describe('the anti-abuse limit on messages (MESSAGE_RATE_PER_MINUTE 5)', () => {
  let limited: TestApi;
  beforeAll(async () => {
    limited = await startApi({ MESSAGE_RATE_PER_MINUTE: '5' }, api.databaseUrl);
  });
  afterAll(() => limited.stop());

  it('admits exactly 5 of 8 parallel sends by one person; the rest are RATE_LIMITED with a wait and store nothing; others still send', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const results = await Promise.all(range(1, 8).map((i) => limited.gql(alice.token, SEND, sendInput(groupId, `burst ${i}`))));
    const sent = results.filter((r) => r.data?.sendMessage);
    const refused = results.filter((r) => r.errors);
    expect(sent).toHaveLength(5);
    expect(refused.map((r) => errorCodes(r))).toEqual([['RATE_LIMITED'], ['RATE_LIMITED'], ['RATE_LIMITED']]);
    for (const r of refused) expect(r.errors![0].extensions!.retryAfterMs).toEqual(expect.any(Number));
    expect(Math.min(...refused.map((r) => r.errors![0].extensions!.retryAfterMs as number))).toBeGreaterThan(0);
    expect(await messageCount(groupId)).toBe(5);

    // The limit is per sender: Bob is not slowed down by Alice.
    const bobs = await limited.gql(bob.token, SEND, sendInput(groupId, 'my turn'));
    expect(bobs.errors).toBeUndefined();
    expect(await messageCount(groupId)).toBe(6);
  });
});

describe('editMessage and deleteMessage', () => {
  it('lets the author edit their message and updates its mentions', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'first draft');
    const r = await api.ok(alice.token, EDIT, { m: m.id, b: `second draft @${bob.username} @AI` });
    expect(r.editMessage).toMatchObject({ id: m.id, body: `second draft @${bob.username} @AI`, mentions: [{ id: bob.id }], mentionsAi: true });
    expect(r.editMessage.editedAt).toEqual(expect.any(String));
    const events = await api.query(`SELECT type FROM group_events WHERE group_id = $1 AND message_id = $2 ORDER BY seq`, [groupId, m.id]);
    expect(events.map((e) => e.type)).toEqual(['MESSAGE_CREATED', 'MESSAGE_UPDATED']);
  });

  it("refuses editing or deleting someone else's message with FORBIDDEN and changes nothing", async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'mine');
    const before = await lastSeq(api, groupId);
    expect(errorCodes(await api.gql(bob.token, EDIT, { m: m.id, b: 'hacked' }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await api.gql(bob.token, DELETE, { m: m.id }))).toEqual(['FORBIDDEN']);
    const [row] = await api.query(`SELECT body, status FROM messages WHERE id = $1`, [m.id]);
    expect(row).toEqual({ body: 'mine', status: 'SENT' });
    expect(await lastSeq(api, groupId)).toBe(before);
  });

  it('gives a non-member NOT_FOUND for editing or deleting a real message, as for a missing one', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const [outsider] = await api.users(1);
    const m = await api.send(alice, groupId, 'private');
    for (const op of [EDIT, DELETE]) {
      const real = await api.gql(outsider.token, op, { m: m.id, b: 'x' });
      const missing = await api.gql(outsider.token, op, { m: randomUUID(), b: 'x' });
      expect(errorCodes(real)).toEqual(['NOT_FOUND']);
      expect(real.errors).toEqual(missing.errors);
    }
  });

  it('leaves a tombstone on delete: status DELETED, empty body, no reactions, same seq', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'regrettable');
    await api.ok(bob.token, ADD_REACTION, { m: m.id, e: '😬' });
    const r = await api.ok(alice.token, DELETE, { m: m.id });
    expect(r.deleteMessage).toMatchObject({ id: m.id, body: '', status: 'DELETED', reactions: [] });
    expect(r.deleteMessage.deletedAt).toEqual(expect.any(String));
    const [row] = await api.query(`SELECT body, status, seq::int AS seq FROM messages WHERE id = $1`, [m.id]);
    expect(row).toEqual({ body: '', status: 'DELETED', seq: m.seq });
    const history = await api.ok(bob.token, HISTORY, { g: groupId });
    expect(history.messages.edges.map((e: any) => e.node)).toEqual([{ id: m.id, seq: m.seq, body: '' }]);
    // A tombstone cannot be edited back to life.
    expect(errorCodes(await api.gql(alice.token, EDIT, { m: m.id, b: 'resurrected' }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('reactions', () => {
  it('adds and removes reactions, ignoring duplicates, with one event per real change', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'react to me');
    await api.ok(bob.token, ADD_REACTION, { m: m.id, e: '👍' });
    const dup = await api.ok(bob.token, ADD_REACTION, { m: m.id, e: '👍' });
    expect(dup.addReaction.reactions).toEqual([{ emoji: '👍', byAi: false, user: { id: bob.id } }]);
    const both = await api.ok(alice.token, ADD_REACTION, { m: m.id, e: '👍' });
    expect(both.addReaction.reactions.map((r: any) => r.user.id).sort()).toEqual([alice.id, bob.id].sort());

    const removed = await api.ok(bob.token, REMOVE_REACTION, { m: m.id, e: '👍' });
    expect(removed.removeReaction.reactions).toEqual([{ emoji: '👍', byAi: false, user: { id: alice.id } }]);
    const again = await api.ok(bob.token, REMOVE_REACTION, { m: m.id, e: '👍' });
    expect(again.removeReaction.reactions).toEqual([{ emoji: '👍', byAi: false, user: { id: alice.id } }]);

    const events = await api.query(`SELECT type, subject_user_id AS who FROM group_events WHERE message_id = $1 AND type LIKE 'REACTION_%' ORDER BY seq`, [m.id]);
    expect(events).toEqual([
      { type: 'REACTION_ADDED', who: bob.id },
      { type: 'REACTION_ADDED', who: alice.id },
      { type: 'REACTION_REMOVED', who: bob.id },
    ]);
  });

  it('accepts compound emoji (skin tones, ZWJ sequences, flags, keycaps)', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'emoji');
    for (const e of ['👍🏽', '👩‍👩‍👧', '🇯🇵', '1️⃣', '❤️']) {
      const r = await api.gql(alice.token, ADD_REACTION, { m: m.id, e });
      expect(r.errors).toBeUndefined();
    }
  });

  it.each([['abc'], [''], ['1'], ['#'], ['👍👎'], ['👍 '], ['<script>']])('refuses %j as a reaction with BAD_USER_INPUT', async (emoji) => {
    const { alice, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'emoji');
    const r = await api.gql(alice.token, ADD_REACTION, { m: m.id, e: emoji });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(await api.query(`SELECT 1 FROM reactions WHERE message_id = $1`, [m.id])).toEqual([]);
  });
});

describe('markRead', () => {
  it('moves the read position forward only and keeps myMembership.unreadCount right', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const [m1, m2, m3] = [await api.send(alice, groupId, 'one'), await api.send(alice, groupId, 'two'), await api.send(alice, groupId, 'three')];
    await api.send(bob, groupId, 'my own message is never unread');
    expect((await api.ok(bob.token, MEMBERSHIP, { g: groupId })).group.myMembership).toEqual({ unreadCount: 3, lastReadSeq: 0 });

    expect((await api.ok(bob.token, MARK_READ, { g: groupId, s: m2.seq })).markRead).toBe(m2.seq);
    expect((await api.ok(bob.token, MEMBERSHIP, { g: groupId })).group.myMembership).toEqual({ unreadCount: 1, lastReadSeq: m2.seq });

    // Going back is ignored.
    expect((await api.ok(bob.token, MARK_READ, { g: groupId, s: m1.seq })).markRead).toBe(m2.seq);
    expect((await api.ok(bob.token, MEMBERSHIP, { g: groupId })).group.myMembership).toEqual({ unreadCount: 1, lastReadSeq: m2.seq });

    // Beyond the end is clamped to the group's last seq.
    const last = await lastSeq(api, groupId);
    expect((await api.ok(bob.token, MARK_READ, { g: groupId, s: last + 1000 })).markRead).toBe(last);
    expect((await api.ok(bob.token, MEMBERSHIP, { g: groupId })).group.myMembership).toEqual({ unreadCount: 0, lastReadSeq: last });
    expect(m3.seq).toBeLessThan(last);

    // Alice's own read position is untouched.
    expect((await api.ok(alice.token, MEMBERSHIP, { g: groupId })).group.myMembership).toEqual({ unreadCount: 1, lastReadSeq: 0 });
  });

  it('refuses a negative seq and gives non-members NOT_FOUND', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const [outsider] = await api.users(1);
    expect(errorCodes(await api.gql(alice.token, MARK_READ, { g: groupId, s: -1 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await api.gql(outsider.token, MARK_READ, { g: groupId, s: 1 }))).toEqual(['NOT_FOUND']);
  });
});

describe('reportMessage', () => {
  it('stores a report for staff', async () => {
    const { alice, bob, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'something bad');
    const r = await api.ok(bob.token, `mutation($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) { id } }`, { m: m.id, r: 'harassment' });
    const rows = await api.query(
      `SELECT id, message_id AS "messageId", group_id AS "groupId", reporter_id AS "reporterId", reason, status FROM message_reports WHERE message_id = $1`,
      [m.id],
    );
    expect(rows).toEqual([{ id: r.reportMessage.id, messageId: m.id, groupId, reporterId: bob.id, reason: 'harassment', status: 'OPEN' }]);
  });

  it('gives a non-member NOT_FOUND and stores nothing', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const [outsider] = await api.users(1);
    const m = await api.send(alice, groupId, 'x');
    const r = await api.gql(outsider.token, `mutation($m: ID!) { reportMessage(messageId: $m, reason: "spam") { id } }`, { m: m.id });
    expect(errorCodes(r)).toEqual(['NOT_FOUND']);
    expect(await api.query(`SELECT 1 FROM message_reports WHERE message_id = $1`, [m.id])).toEqual([]);
  });
});

describe('messages history', () => {
  let alice: TestUser;
  let groupId: string;
  let sent: Array<{ id: string; seq: number; body: string }>;
  beforeAll(async () => {
    ({ alice, groupId } = await twoMemberGroup());
    sent = [];
    for (let i = 0; i < 7; i++) sent.push(await api.send(alice, groupId, `m${i}`));
  });

  const page = async (vars: Record<string, unknown>) => (await api.ok(alice.token, HISTORY, { g: groupId, ...vars })).messages;

  it('returns the newest page oldest-first, then pages back with before and forward with after', async () => {
    const newest = await page({ first: 3 });
    expect(newest.edges.map((e: any) => e.node.body)).toEqual(['m4', 'm5', 'm6']);
    expect(newest.edges.map((e: any) => e.cursor)).toEqual(sent.slice(4).map((m) => String(m.seq)));
    expect(newest.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false, startCursor: String(sent[4].seq), endCursor: String(sent[6].seq) });

    const older = await page({ first: 3, before: newest.pageInfo.startCursor });
    expect(older.edges.map((e: any) => e.node.body)).toEqual(['m1', 'm2', 'm3']);
    expect(older.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const oldest = await page({ first: 3, before: older.pageInfo.startCursor });
    expect(oldest.edges.map((e: any) => e.node.body)).toEqual(['m0']);
    expect(oldest.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });

    const forward = await page({ first: 4, after: String(sent[0].seq) });
    expect(forward.edges.map((e: any) => e.node.body)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(forward.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const tail = await page({ first: 4, after: forward.pageInfo.endCursor });
    expect(tail.edges.map((e: any) => e.node.body)).toEqual(['m5', 'm6']);
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });

    const beyond = await page({ first: 4, after: tail.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false, startCursor: null, endCursor: null });

    // Empty pages still say what lies on either side: before the first message, and between two neighbours.
    const before = await page({ first: 4, before: String(sent[0].seq) });
    expect(before).toMatchObject({ edges: [], pageInfo: { hasPreviousPage: false, hasNextPage: true } });
    const between = await page({ first: 4, after: String(sent[2].seq), before: String(sent[3].seq) });
    expect(between).toMatchObject({ edges: [], pageInfo: { hasNextPage: true } });
    const window = await page({ first: 4, after: String(sent[1].seq), before: String(sent[4].seq) });
    expect(window.edges.map((e: any) => e.node.body)).toEqual(['m2', 'm3']);
  });

  it("shows each message's author and reactions (users, order, timestamps) as the mutations returned them", async () => {
    const { alice, bob, groupId: g } = await twoMemberGroup();
    const first = await api.send(alice, g, 'first');
    const second = await api.send(bob, g, 'second');
    await api.ok(bob.token, ADD_REACTION, { m: first.id, e: '👍' });
    const returned = (await api.ok(alice.token, ADD_REACTION, { m: first.id, e: '🎉' })).addReaction.reactions;
    const SHAPE = `query($g: ID!) { messages(groupId: $g) { edges { node { id author { id username } reactions { emoji byAi user { id username } createdAt } } } } }`;
    const nodes = (await api.ok(bob.token, SHAPE, { g })).messages.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => [n.id, n.author.id])).toEqual([[first.id, alice.id], [second.id, bob.id]]);
    expect(nodes[0].reactions.map((r: any) => [r.emoji, r.user.id, r.byAi])).toEqual([['👍', bob.id, false], ['🎉', alice.id, false]]);
    expect(nodes[0].reactions).toEqual(
      returned.map((r: any) => expect.objectContaining({ emoji: r.emoji, byAi: r.byAi, user: expect.objectContaining({ id: r.user.id }) })),
    );
    const stored = await api.query<{ emoji: string; at: Date }>(`SELECT emoji, created_at AS at FROM reactions WHERE message_id = $1 ORDER BY created_at, emoji`, [first.id]);
    expect(nodes[0].reactions.map((r: any) => [r.emoji, r.createdAt])).toEqual(stored.map((r) => [r.emoji, r.at.toISOString()]));
    expect(nodes[1].reactions).toEqual([]);
  });

  it('gives a member who left NOT_FOUND for a group full of messages, as for one they never joined', async () => {
    const { alice, bob, groupId: g } = await twoMemberGroup();
    await api.send(alice, g, 'still here');
    await api.ok(bob.token, `mutation($g: ID!) { leaveGroup(groupId: $g) }`, { g });
    const left = await api.gql(bob.token, HISTORY, { g });
    expect(errorCodes(left)).toEqual(['NOT_FOUND']);
    expect(left.errors).toEqual((await api.gql(bob.token, HISTORY, { g: randomUUID() })).errors);
  });

  it('refuses malformed cursors and a non-positive first with BAD_USER_INPUT', async () => {
    for (const vars of [{ before: 'abc' }, { after: '-1' }, { first: 0 }]) {
      expect(errorCodes(await api.gql(alice.token, HISTORY, { g: groupId, ...vars }))).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('caps first at 100', async () => {
    const { alice: owner, groupId: big } = await twoMemberGroup();
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => api.send(owner, big, `b${batch * 20 + i}`)));
    }
    const r = await api.ok(owner.token, `query($g: ID!) { messages(groupId: $g, first: 500) { edges { node { seq } } pageInfo { hasPreviousPage hasNextPage } } }`, { g: big });
    expect(r.messages.edges).toHaveLength(100);
    expect(r.messages.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false });
    const seqs = r.messages.edges.map((e: any) => e.node.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => a - b));
    expect(seqs.at(-1)).toBe(await lastSeq(api, big));
  });
});

describe('access by non-members', () => {
  it('gives NOT_FOUND for messages and sendMessage of a real group exactly as for a random id', async () => {
    const { alice, groupId } = await twoMemberGroup();
    await api.send(alice, groupId, 'members only');
    const [outsider] = await api.users(1);
    const randomId = randomUUID();
    for (const op of [
      (g: string) => api.gql(outsider.token, HISTORY, { g }),
      (g: string) => api.gql(outsider.token, SEND, sendInput(g, 'let me in', { clientMessageId: 'same' })),
    ]) {
      const real = await op(groupId);
      const random = await op(randomId);
      expect(errorCodes(real)).toEqual(['NOT_FOUND']);
      expect(real.errors).toEqual(random.errors);
      expect(real.data).toEqual(random.data);
    }
    expect(await messageCount(groupId)).toBe(1);
  });
});

describe('query limits and error masking', () => {
  it('refuses a query deeper than 10 levels with BAD_USER_INPUT', async () => {
    const [u] = await api.users(1);
    // No path in the schema is that deep, so nest inside groups until it is.
    const deep = `{ groups { edges { node { members { user { a { b { c { d { e { f { g } } } } } } } } } } } }`;
    const r = await api.gql(u.token, deep);
    expect(r.errors!.length).toBeGreaterThan(0);
    expect(new Set(errorCodes(r))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(r.errors!.some((e) => /exceeds maximum operation depth of 10/.test(e.message))).toBe(true);
  });

  describe('with lowered limits (GRAPHQL_MAX_DEPTH 3, GRAPHQL_MAX_COST 20)', () => {
    // The schema's deepest valid path is 5 levels, so the depth limit is lowered to reach it.
    let limited: TestApi;
    let alice: TestUser;
    let groupId: string;
    beforeAll(async () => {
      limited = await startApi({ GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_COST: '20' });
      const [a, b] = await limited.users(2);
      alice = a;
      groupId = await limited.group(a, [b]);
    });
    afterAll(() => limited.stop());

    it('refuses a query deeper than the limit over HTTP, through fragments too', async () => {
      const depth5 = `query($g: ID!) { messages(groupId: $g, first: 1) { edges { node { reactions { user { id } } } } } }`;
      const viaFragments = `query($g: ID!) { messages(groupId: $g, first: 1) { ...E } }
        fragment E on MessageConnection { edges { ...N } } fragment N on MessageEdge { node { reactions { emoji } } }`;
      for (const q of [depth5, viaFragments]) {
        const r = await limited.gql(alice.token, q, { g: groupId });
        expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
        expect(r.errors![0].message).toMatch(/maximum operation depth of 3/);
      }
      const depth3 = `query($g: ID!) { messages(groupId: $g, first: 1) { edges { node { id } } } }`;
      expect((await limited.gql(alice.token, depth3, { g: groupId })).errors).toBeUndefined();
    });

    it('refuses over-deep and over-costly subscriptions over graphql-ws with BAD_USER_INPUT', async () => {
      const deep = new EventCollector(limited.ws(alice.token), groupId, undefined, 'seq message { reactions { user { id } } }');
      const costly = new EventCollector(limited.ws(alice.token), groupId, undefined, 'seq type groupId occurredAt message { id seq body status kind createdAt editedAt deletedAt } actor { id username displayName photoUrl } typing { isTyping expiresAt }');
      await Promise.all([deep.untilDone(), costly.untilDone()]);
      const deepErrors = subscriptionErrors(deep);
      expect(deepErrors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(deepErrors[0].message).toMatch(/maximum operation depth of 3/);
      const costErrors = subscriptionErrors(costly);
      expect(costErrors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(costErrors[0].extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', maxCost: 20 });
    });
  });

  it('refuses an over-costly query with BAD_USER_INPUT, reason QUERY_TOO_COSTLY and HTTP 400', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const node = `id seq kind body status statusReason replyToId clientMessageId mentionsAi editedAt deletedAt createdAt groupId
      author { id username displayName photoUrl } mentions { id username displayName photoUrl }
      reactions { emoji byAi createdAt user { id username displayName photoUrl } }`;
    const costly = (first: number) => `query($g: ID!) {
      a: messages(groupId: $g, first: ${first}) { edges { cursor node { ${node} } } }
      b: messages(groupId: $g, first: ${first}) { edges { cursor node { ${node} } } }
    }`;
    const refused = await api.gql(alice.token, costly(100), { g: groupId });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors![0].extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', maxCost: 5000 });
    expect(refused.errors![0].extensions).not.toHaveProperty('http');
    expect(refused.data ?? null).toBeNull();
    expect(refused.status).toBe(400);

    // The same shape with small pages is fine: it is the cost that was refused.
    expect((await api.gql(alice.token, costly(5), { g: groupId })).errors).toBeUndefined();

    // Page sizes passed as variables count too, also for a document whose cost was worked out before with a small page.
    const paged = `query($g: ID!, $n: Int!) { messages(groupId: $g, first: $n) { edges { node { ${node} } } } }`;
    expect((await api.gql(alice.token, paged, { g: groupId, n: 5 })).errors).toBeUndefined();
    const viaVariables = await api.gql(alice.token, paged, { g: groupId, n: 100_000 });
    expect(errorCodes(viaVariables)).toEqual(['BAD_USER_INPUT']);
    expect(viaVariables.errors![0].extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY' });

    // Fields that @include leaves out cost nothing; the same document with them in is refused.
    const optional = `query($g: ID!, $both: Boolean!) {
      a: messages(groupId: $g, first: 100) { edges { cursor node { ${node} } } }
      b: messages(groupId: $g, first: 100) @include(if: $both) { edges { cursor node { ${node} } } }
    }`;
    expect((await api.gql(alice.token, optional, { g: groupId, both: false })).errors).toBeUndefined();
    expect((await api.gql(alice.token, optional, { g: groupId, both: true })).errors![0].extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY' });
    expect((await api.gql(alice.token, optional, { g: groupId, both: false })).errors).toBeUndefined();
  });

  it('refuses badly typed variables with BAD_USER_INPUT and HTTP 400, not an internal error', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const r = await api.gql(alice.token, `query($g: ID!, $n: Int!) { messages(groupId: $g, first: $n) { edges { cursor } } }`, { g: groupId, n: 'many' });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/\$n/);
    expect(r.status).toBe(400);
  });

  it('refuses malformed documents (unknown or cyclic fragments) with BAD_USER_INPUT', async () => {
    const [u] = await api.users(1);
    for (const q of [`{ ...Missing }`, `{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }`]) {
      const r = await api.gql(u.token, q);
      expect(r.errors!.length).toBeGreaterThan(0);
      expect(new Set(errorCodes(r))).toEqual(new Set(['BAD_USER_INPUT']));
    }
  });

  it('masks internal errors: no SQL, table names or stack traces reach the client', async () => {
    const { alice, groupId } = await twoMemberGroup();
    const m = await api.send(alice, groupId, 'x');
    await api.query(`ALTER TABLE message_reports RENAME TO message_reports_hidden`);
    let r;
    try {
      r = await api.gql(alice.token, `mutation($m: ID!) { reportMessage(messageId: $m, reason: "spam") { id } }`, { m: m.id });
    } finally {
      await api.query(`ALTER TABLE message_reports_hidden RENAME TO message_reports`);
    }
    expect(errorCodes(r)).toEqual(['INTERNAL']);
    expect(r.errors![0].message).toBe('Internal server error');
    expect(r.errors![0].extensions).toEqual({ code: 'INTERNAL' });
    const text = JSON.stringify(r);
    expect(text).not.toMatch(/message_reports|relation|INSERT|stack|\.ts:/i);
  });
});
