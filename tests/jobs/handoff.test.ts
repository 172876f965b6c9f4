/**
 * Shutdown hands work back (issue 11, item 3). The compiled service runs as child processes
 * on one database and gets a real SIGTERM. A group reply still streaming when
 * SHUTDOWN_GRACE_MS is over is not ended: its process hands it back and exits 0, and another
 * instance takes it over and redoes it in the same message (same id and seq), charging
 * nothing more; a hand-back is not counted as a takeover, so it leaves the reply its one
 * redo. A reply that finishes within the grace is completed by the process that streamed
 * it. When the process was the only instance, the next start takes the reply over at boot.
 */
import { createDatabase } from '../support/harness';
import { ensureBuilt } from '../support/build';
import { quotaOf } from '../ai/ai-support';
import { Service, aiRows, crashFixture, database, gate, never, until } from './crash-support';

jest.setTimeout(120_000);
beforeAll(ensureBuilt, 180_000);

const crash = crashFixture();
const { start, stalledMention } = crash;

/** SIGTERM, and resolves with the exit code. */
async function sigterm(s: Service): Promise<unknown> {
  s.child.kill('SIGTERM');
  return s.exited;
}

async function responses(db: ReturnType<typeof database>, userId: string) {
  return db.query(`SELECT status, charged, takeovers, lease_owner AS "leaseOwner", message_id AS "messageId" FROM model_responses WHERE charged_user_id = $1`, [userId]);
}

it('SIGTERM while a reply streams past the grace: the process exits 0 and another instance redoes the reply in the same message, one unit charged', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['The Douro ', 'is a river ', 'in Portugal.'], stallAfterChunks: 2, resume: never }, { text: 'Port wine comes from the Douro valley.' });
    const a = await start(databaseUrl, { SHUTDOWN_GRACE_MS: '1500' });
    const { alice, groupId } = await stalledMention(a);
    const [streaming] = await aiRows(db, groupId);
    expect(streaming.status).toBe('STREAMING');
    const [{ leaseOwner: aId }] = await responses(db, alice.id);
    // B starts after A took the job: the reply is A's.
    const b = await start(databaseUrl, { SHUTDOWN_GRACE_MS: '1500' });

    expect(await sigterm(a)).toBe(0);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'B to finish the reply');
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: 'Port wine comes from the Douro valley.', status: 'COMPLETED', statusReason: null });
    expect(await aiRows(db, groupId)).toHaveLength(1);
    const [response] = await responses(db, alice.id);
    // Handed back, not crashed: the redo used no takeover, so a crash during it could still be redone.
    expect(response).toMatchObject({ status: 'COMPLETED', charged: true, takeovers: 0, messageId: streaming.id });
    expect(response.leaseOwner).not.toBe(aId);
    const [{ bId }] = await db.query(`SELECT id AS "bId" FROM service_instances WHERE expires_at > now()`);
    expect(response.leaseOwner).toBe(bId);
    expect((await quotaOf(b.api, alice)).used).toBe(1);
    expect(crash.fake.chatRequests()).toHaveLength(2);
    expect(a.output()).toContain('AI reply handed back at shutdown');
  } finally {
    await db.end();
  }
});

it('SIGTERM while a reply streams, the reply finishing within the grace: the process completes it itself and exits 0', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    const resume = gate();
    crash.fake.enqueue({ chunks: ['Half ', 'an ', 'answer.'], stallAfterChunks: 1, resume: resume.promise });
    const a = await start(databaseUrl, { SHUTDOWN_GRACE_MS: '30000' });
    const { alice, groupId } = await stalledMention(a);
    const [streaming] = await aiRows(db, groupId);
    const [{ leaseOwner: aId }] = await responses(db, alice.id);
    const b = await start(databaseUrl);

    a.child.kill('SIGTERM');
    await until(async () => a.output().includes('shutting down'), 'A to begin its shutdown');
    resume.open();
    expect(await a.exited).toBe(0);

    const [done] = await aiRows(db, groupId);
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: 'Half an answer.', status: 'COMPLETED', statusReason: null });
    expect(await responses(db, alice.id)).toEqual([{ status: 'COMPLETED', charged: true, takeovers: 0, leaseOwner: aId, messageId: streaming.id }]);
    expect((await quotaOf(b.api, alice)).used).toBe(1);
    expect(crash.fake.chatRequests()).toHaveLength(1);
  } finally {
    await db.end();
  }
});

it('SIGTERM of the only instance while a reply streams: the next start takes the handed-back reply over at boot and redoes it', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['One ', 'two ', 'three.'], stallAfterChunks: 1, resume: never }, { text: 'Uno dos tres.' });
    const first = await start(databaseUrl, { SHUTDOWN_GRACE_MS: '1000' });
    const { alice, groupId } = await stalledMention(first);
    const [streaming] = await aiRows(db, groupId);
    expect(await sigterm(first)).toBe(0);
    // Handed back, not ended, while nobody runs.
    expect(await aiRows(db, groupId)).toEqual([expect.objectContaining({ id: streaming.id, status: 'STREAMING' })]);

    const second = await start(databaseUrl);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the restarted service to finish the reply');
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: 'Uno dos tres.', status: 'COMPLETED', statusReason: null });
    expect(await responses(db, alice.id)).toEqual([expect.objectContaining({ status: 'COMPLETED', charged: true, takeovers: 0 })]);
    expect((await quotaOf(second.api, alice)).used).toBe(1);
  } finally {
    await db.end();
  }
});

it('a hand-back does not use up the redo: a crash during the redo that followed it is still redone', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue(
      { chunks: ['First ', 'try.'], stallAfterChunks: 1, resume: never },
      { chunks: ['Second ', 'try.'], stallAfterChunks: 1, resume: never },
      { text: 'Third time lucky.' },
    );
    const first = await start(databaseUrl, { SHUTDOWN_GRACE_MS: '1000' });
    const { alice, groupId } = await stalledMention(first);
    const [streaming] = await aiRows(db, groupId);
    expect(await sigterm(first)).toBe(0);

    const second = await start(databaseUrl);
    const [, redo] = await crash.fake.waitForChatRequests(2, 30_000);
    await until(async () => redo.stalled === true, 'the redo to stall');
    await second.kill9();

    const third = await start(databaseUrl);
    const done = await until(async () => (await aiRows(db, groupId)).find((m) => m.status !== 'STREAMING'), 'the reply to end');
    expect(done).toEqual({ id: streaming.id, seq: streaming.seq, body: 'Third time lucky.', status: 'COMPLETED', statusReason: null });
    expect(await responses(db, alice.id)).toEqual([expect.objectContaining({ status: 'COMPLETED', charged: true, takeovers: 1 })]);
    expect((await quotaOf(third.api, alice)).used).toBe(1);
    expect(crash.fake.chatRequests()).toHaveLength(3);
  } finally {
    await db.end();
  }
});

it('SIGTERM while a private reply streams past the grace: the process itself ends it FAILED INTERRUPTED, gives the unit back and exits 0', async () => {
  const databaseUrl = await createDatabase();
  const db = database(databaseUrl);
  try {
    crash.fake.enqueue({ chunks: ['Let ', 'me ', 'think.'], stallAfterChunks: 1, resume: never });
    const a = await start(databaseUrl, { SHUTDOWN_GRACE_MS: '1500' });
    const [alice] = await a.api.users(1);
    const started = await a.api.ok(alice.token, `mutation { startConversation(title: "t") { id } }`);
    const conversationId = started.startConversation.id;
    const asked = a.api
      .gql(alice.token, `mutation($c: ID!, $b: String!) { sendPrivateMessage(conversationId: $c, body: $b) { reply { id } } }`, { c: conversationId, b: 'How far is Porto from Lisbon?' })
      .catch((err: Error) => err);
    const [request] = await crash.fake.waitForChatRequests(1, 30_000);
    await until(async () => request.stalled === true, 'the private reply to stall');

    // The only instance: nobody else could end the reply after it exits.
    expect(await sigterm(a)).toBe(0);
    await asked;
    const replies = await db.query(`SELECT body, status, status_reason AS "statusReason" FROM conversation_messages WHERE conversation_id = $1 AND role = 'AI'`, [conversationId]);
    expect(replies).toEqual([{ body: '', status: 'FAILED', statusReason: 'INTERRUPTED' }]);
    const [response] = await db.query(`SELECT status, status_reason AS "statusReason", charged, takeovers FROM model_responses WHERE charged_user_id = $1`, [alice.id]);
    expect(response).toEqual({ status: 'FAILED', statusReason: 'INTERRUPTED', charged: false, takeovers: 0 });
    expect(request.aborted).toBe(true);
  } finally {
    await db.end();
  }
});
