/**
 * A reply survives the process that started it (issue 11, item 2). The compiled service
 * runs as child processes on one database; a real SIGKILL stops one mid-reply. The policy
 * (README, "Durable AI replies"): the first takeover redoes the reply in the same message
 * (same id and seq, its partial text dropped) and charges nothing more; a reply interrupted
 * a second time ends FAILED with reason INTERRUPTED and its unit is given back. A private
 * chat's reply is not redone: it ends FAILED INTERRUPTED, unit given back.
 */
import { Client as PgClient } from 'pg';
import { createDatabase } from '../support/harness';
import { ensureBuilt } from '../support/build';
import { quotaOf, updateGroup } from '../ai/ai-support';
import { aiRows, crashFixture, database, gate, never, until } from './crash-support';

jest.setTimeout(120_000);
beforeAll(ensureBuilt, 180_000);

const crash = crashFixture();
const { start, stalledMention } = crash;

async function responses(db: ReturnType<typeof database>, userId: string) {
  return db.query(`SELECT status, status_reason AS "statusReason", charged, takeovers, message_id AS "messageId" FROM model_responses WHERE charged_user_id = $1`, [userId]);
}

it('kill -9 during a stream, then restart: the reply is redone once in the same message and completes, one unit charged', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['The Douro ', 'is a river ', 'in Portugal.'], stallAfterChunks: 2, resume: never }, { text: 'Port wine comes from the Douro valley.' });
    const first = await start(databaseUrl);
    const { alice, groupId } = await stalledMention(first);
    const [streaming] = await aiRows(db, groupId);
    expect(streaming.status).toBe('STREAMING');

    await first.kill9();
    const second = await start(databaseUrl);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply to end');

    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: 'Port wine comes from the Douro valley.', status: 'COMPLETED', statusReason: null });
    expect(await aiRows(db, groupId)).toHaveLength(1);
    expect(await responses(db, alice.id)).toEqual([{ status: 'COMPLETED', statusReason: null, charged: true, takeovers: 1, messageId: streaming.id }]);
    expect((await quotaOf(second.api, alice)).used).toBe(1);
    expect(crash.fake.chatRequests()).toHaveLength(2);
    // Clients were told the body was reset before the new deltas.
    const updated = await db.query(`SELECT 1 FROM group_events WHERE group_id = $1 AND type = 'MESSAGE_UPDATED' AND message_id = $2`, [groupId, streaming.id]);
    expect(updated).toHaveLength(1);
  } finally {
    await db.end();
  }
});

it('a reply interrupted a second time ends FAILED INTERRUPTED and its unit is given back', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['One ', 'two ', 'three.'], stallAfterChunks: 1, resume: never }, { chunks: ['Uno ', 'dos ', 'tres.'], stallAfterChunks: 1, resume: never });
    const first = await start(databaseUrl);
    const { alice, groupId } = await stalledMention(first);
    const [streaming] = await aiRows(db, groupId);
    await first.kill9();

    const second = await start(databaseUrl);
    const [, redo] = await crash.fake.waitForChatRequests(2, 30_000);
    await until(async () => redo.stalled === true, 'the redo to stall');
    await second.kill9();

    const third = await start(databaseUrl);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply to end');
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: '', status: 'FAILED', statusReason: 'INTERRUPTED' });
    expect(await responses(db, alice.id)).toEqual([{ status: 'FAILED', statusReason: 'INTERRUPTED', charged: false, takeovers: 2, messageId: streaming.id }]);
    expect((await quotaOf(third.api, alice)).used).toBe(0);
    expect(crash.fake.chatRequests()).toHaveLength(2);
  } finally {
    await db.end();
  }
});

it('two processes on one database, one killed mid-reply: the other finishes it', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['Half ', 'an ', 'answer.'], stallAfterChunks: 1, resume: never }, { text: 'A whole answer.' });
    const a = await start(databaseUrl);
    const b = await start(databaseUrl);
    const { alice, groupId } = await stalledMention(a);
    const [streaming] = await aiRows(db, groupId);
    // Whichever instance took the job holds the reply's lease: that one is killed.
    const [{ owner }] = await db.query(`SELECT lease_owner AS owner FROM model_responses WHERE message_id = $1`, [streaming.id]);
    const instances: Array<{ id: string }> = await db.query(`SELECT id FROM service_instances ORDER BY started_at`);
    expect(instances).toHaveLength(2);
    const [holder, other] = instances[0].id === owner ? [a, b] : [b, a];
    await holder.kill9();

    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the other instance to finish the reply');
    expect(done).toMatchObject({ id: streaming.id, seq: streaming.seq, body: 'A whole answer.', status: 'COMPLETED' });
    const [{ owner: finisher }] = await db.query(`SELECT lease_owner AS owner FROM model_responses WHERE message_id = $1`, [streaming.id]);
    expect(finisher).not.toBe(owner);
    expect((await quotaOf(other.api, alice)).used).toBe(1);
  } finally {
    await db.end();
  }
});

it('kill -9 mid-reply after the question was deleted: the reply still ends, FAILED INTERRUPTED, with its unit back', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['The Douro ', 'is a river.'], stallAfterChunks: 1, resume: never });
    const first = await start(databaseUrl);
    const { alice, groupId, trigger } = await stalledMention(first);
    await first.api.ok(alice.token, `mutation($m: ID!) { deleteMessage(messageId: $m) { id } }`, { m: trigger.id });
    const [streaming] = await aiRows(db, groupId);
    await first.kill9();

    const second = await start(databaseUrl);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply to end');
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: '', status: 'FAILED', statusReason: 'INTERRUPTED' });
    expect((await quotaOf(second.api, alice)).used).toBe(0);
    expect(crash.fake.chatRequests()).toHaveLength(1);
  } finally {
    await db.end();
  }
});

it('a process that stalls past its lease cannot end the reply another instance took over', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    const resumeA = gate();
    const resumeB = gate();
    crash.fake.enqueue(
      { chunks: ['Stale ', 'text ', 'from A.'], stallAfterChunks: 1, resume: resumeA.promise },
      { chunks: ['Fresh ', 'text ', 'from B.'], stallAfterChunks: 1, resume: resumeB.promise },
    );
    const a = await start(databaseUrl);
    const { alice, groupId } = await stalledMention(a);
    const [streaming] = await aiRows(db, groupId);
    const b = await start(databaseUrl);
    // Frozen, as in a long GC pause or a suspended VM: its heartbeat stops and its lease runs out.
    a.child.kill('SIGSTOP');
    const [first, redo] = await crash.fake.waitForChatRequests(2, 30_000);
    await until(async () => redo.stalled === true, 'the redo on the other instance to stall');

    // A wakes up and its stream ends: it must not end the reply it no longer holds.
    resumeA.open();
    a.child.kill('SIGCONT');
    await until(async () => first.resumed === true, 'the stale stream to finish');
    await until(async () => a.output().includes("is no longer this instance's"), 'the stale instance to be refused');
    expect((await aiRows(db, groupId))[0]).toMatchObject({ id: streaming.id, status: 'STREAMING' });

    resumeB.open();
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the redo to end');
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: 'Fresh text from B.', status: 'COMPLETED', statusReason: null });
    const completions = await db.query(`SELECT 1 FROM group_events WHERE message_id = $1 AND type = 'AI_COMPLETED'`, [streaming.id]);
    expect(completions).toHaveLength(1);
    expect((await quotaOf(b.api, alice)).used).toBe(1);
  } finally {
    await db.end();
  }
});

it('a crash after the message commits but before the AI starts: the reply still comes after the restart', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.onChat(() => ({ text: 'Still here.' }));
    // ROLE=api takes the message and enqueues its job, but runs no jobs: it dies before any AI work.
    const apiOnly = await start(databaseUrl, { ROLE: 'api' });
    const [alice, bob] = await apiOnly.api.users(2);
    const groupId = await apiOnly.api.group(alice, [bob]);
    await updateGroup(apiOnly.api, alice, groupId, { aiMode: 'MENTIONS' });
    await apiOnly.api.send(alice, groupId, '@AI are you there?');
    expect(await db.query(`SELECT task_identifier AS task FROM graphile_worker.jobs`)).toEqual([{ task: 'ai.respond' }]);
    await apiOnly.kill9();
    expect(crash.fake.chatRequests()).toHaveLength(0);

    const restarted = await start(databaseUrl);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply after the restart');
    expect(done).toMatchObject({ body: 'Still here.', status: 'COMPLETED' });
    expect((await quotaOf(restarted.api, alice)).used).toBe(1);
  } finally {
    await db.end();
  }
});

it('a private chat killed mid-reply: after the restart the reply is FAILED INTERRUPTED and the unit is back', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['Let ', 'me ', 'think.'], stallAfterChunks: 1, resume: never });
    const first = await start(databaseUrl);
    const [alice] = await first.api.users(1);
    const started = await first.api.ok(alice.token, `mutation { startConversation(title: "t") { id } }`);
    const conversationId = started.startConversation.id;
    // The mutation waits for the reply; the process dies under it.
    const asked = first.api
      .gql(alice.token, `mutation($c: ID!, $b: String!) { sendPrivateMessage(conversationId: $c, body: $b) { reply { id } } }`, { c: conversationId, b: 'How far is Porto from Lisbon?' })
      .catch((err: Error) => err);
    const [request] = await crash.fake.waitForChatRequests(1, 30_000);
    await until(async () => request.stalled === true, 'the private reply to stall');
    expect((await responses(db, alice.id))[0]).toMatchObject({ status: 'STREAMING', charged: true });
    await first.kill9();
    await asked;

    const second = await start(databaseUrl);
    const reply = await until(
      async () => (await db.query(`SELECT body, status, status_reason AS "statusReason" FROM conversation_messages WHERE conversation_id = $1 AND role = 'AI'`, [conversationId]))[0],
      'the private reply to be ended',
    );
    expect(reply).toEqual({ body: '', status: 'FAILED', statusReason: 'INTERRUPTED' });
    expect(await responses(db, alice.id)).toEqual([expect.objectContaining({ status: 'FAILED', statusReason: 'INTERRUPTED', charged: false, takeovers: 1 })]);
    expect((await quotaOf(second.api, alice)).used).toBe(0);
  } finally {
    await db.end();
  }
});

it('kill -9 while a blocked reply\'s case is being stored: the ending did not commit without it, and after the restart the reply ends BLOCKED with one AI_BLOCKED case', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  const holder = new PgClient({ connectionString: databaseUrl });
  await holder.connect();
  try {
    const violent = { violence: 0.97, 'violence/graphic': 0.9 };
    crash.fake.onModeration((input) => (input.includes('zorblax') ? { flagged: true, category_scores: violent } : { flagged: false, category_scores: {} }));
    crash.fake.enqueue({ text: 'The zorblax plan is fine.' }, { text: 'The zorblax plan is fine.' });
    const first = await start(databaseUrl, { OPENAI_MODERATION: 'true' });
    const [alice, bob] = await first.api.users(2, { age: 'adult' });
    const groupId = await first.api.group(alice, [bob]);
    // The test holds safety_cases against writes: the blocked reply's case waits for it.
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE safety_cases IN SHARE MODE');
    await first.api.send(alice, groupId, '@AI is the plan fine?');
    await until(async () => {
      const [w] = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%safety_case%'`);
      return w.n > 0;
    }, 'the case to wait for the lock');
    // The reply's ending waits with its case: stored apart, the message would be BLOCKED already.
    expect((await aiRows(db, groupId)).map((m) => m.status)).toEqual(['STREAMING']);
    await first.kill9();
    await holder.query('COMMIT');

    const second = await start(databaseUrl, { OPENAI_MODERATION: 'true' });
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply after the restart');
    expect(done).toMatchObject({ status: 'BLOCKED', statusReason: 'CONTENT_BLOCKED', body: '' });
    expect(await db.query(`SELECT source, categories FROM safety_cases WHERE message_id = $1`, [done.id])).toEqual([{ source: 'AI_BLOCKED', categories: ['violence'] }]);
    // Output blocked for its content is charged (domain/quota/settlement.ts), once.
    expect(await responses(db, alice.id)).toEqual([expect.objectContaining({ status: 'BLOCKED', charged: true, takeovers: 1 })]);
    expect((await quotaOf(second.api, alice)).used).toBe(1);
  } finally {
    await holder.end();
    await db.end();
  }
});
