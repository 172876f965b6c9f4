/**
 * The fan-out bench's raw baselines, run as their own process: what delivering a chat
 * message costs by hand. The load generator POSTs each message as JSON over HTTP, with the
 * same client and from the same start point as its sendMessage requests; the server writes
 * it, builds the event's JSON, stringifies it once, `ws.send`s it to every socket of the
 * group, and answers the request. No GraphQL, no auth, no ordering guarantees. Two arms:
 *
 * - `sql`: the service's own send statement (api/src/messages/send-statement.ts, by author
 *   id) as a named prepared statement on a pool set up like the service's: the seq taken
 *   under the group's row lock, the membership check, the message row with its event row
 *   and its idempotency key, and the AI job only when the message may get one. Its rows go
 *   to a table shaped like `moderation_pending` that the service does not read, so the
 *   service moderates none of them. It runs on groups of its own (created through the API),
 *   so no subscriber of the service sees its seqs.
 * - `plain`: one prepared INSERT of a message-like row, the seq from a counter in memory.
 *
 * Over IPC it answers `{ t: 'loop' }` with its event-loop delay since the last ask
 * (`monitorEventLoopDelay`, 1 ms resolution) and starts measuring again, and `{ t: 'tally' }`
 * with what the same-SQL arm's statement reported (`RawTally`).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'pg';
import { SEND_BY_ID, type SendRow } from '../api/src/messages/send-statement';
import { jsonPost, runRawProcess, serveRawSockets } from './raw-process';

export type RawArm = 'sql' | 'plain';

/** The body of `POST /send`. */
export interface RawSend {
  arm: RawArm;
  /** The group's index: which sockets get the event. */
  group: number;
  groupId: string;
  cmid: string;
  body: string;
  author: { id: string; username: string; displayName: string; photoUrl: string };
}

/** Event-loop delay in ms: what Node's histogram records, which includes its 1 ms sampling interval. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** What the same-SQL arm's statement reported: messages it wrote, and of them how many enqueued an AI job (must be none). */
export interface RawTally {
  sent: number;
  aiJobs: number;
}

export type RawCommand = { t: 'loop' } | { t: 'tally' } | { t: 'stop' };

const INSERT = `INSERT INTO bench_raw_messages (group_id, seq, author_id, body, client_message_id)
  VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`;

const MODERATION = 'INSERT INTO moderation_pending';
/** The service's statement, its moderation row going to a table of the same shape that only this baseline writes. */
const SEND = SEND_BY_ID.replace(MODERATION, 'INSERT INTO bench_raw_moderation_pending');

const frame = (m: RawSend, id: string, seq: number, occurredAt: string, createdAt: string): string => {
  const author = m.author;
  const payload = JSON.stringify({
    data: {
      groupEvents: {
        seq,
        type: 'MESSAGE_CREATED',
        groupId: m.groupId,
        occurredAt,
        actor: { id: author.id, username: author.username, displayName: author.displayName },
        message: { id, seq, body: m.body, clientMessageId: m.cmid, createdAt, author },
      },
    },
  });
  return `{"id":"1","type":"next","payload":${payload}}`;
};

async function main(): Promise<void> {
  if (SEND_BY_ID.split(MODERATION).length !== 2) throw new Error(`the send statement no longer has exactly one "${MODERATION}"`);
  // Like the service's pool (api/src/db/data-source.ts): its size, and generic plans from the first execution.
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20, options: '-c plan_cache_mode=force_generic_plan' });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      group_id uuid NOT NULL,
      seq bigint NOT NULL,
      author_id uuid NOT NULL,
      body text NOT NULL,
      client_message_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (group_id, seq))`);
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_moderation_pending (LIKE moderation_pending INCLUDING ALL)`);

  const seqs = new Map<number, number>();
  const tally: RawTally = { sent: 0, aiJobs: 0 };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();

  /** Writes the message, sends its event to the group's sockets; resolves to its id and seq. */
  const send = async (m: RawSend): Promise<{ id: string; seq: number }> => {
    if (m.arm === 'sql') {
      const { rows } = await pool.query<SendRow>({
        name: 'send-message',
        text: SEND,
        values: [m.groupId, m.author.id, m.cmid, m.body, null, '{}', false, 'unaddressed', 0],
      });
      const row = rows[0];
      if (!row || row.origin !== 'new') throw new Error(`not sent (${row ? 'a retry' : 'not a member, or the group is closed'})`);
      tally.sent++;
      if (row.aiJobId !== null) tally.aiJobs++;
      sockets.send(m.group, frame(m, row.id, row.seq, row.eventAt.toISOString(), row.createdAt.toISOString()));
      return { id: row.id, seq: row.seq };
    }
    const seq = (seqs.get(m.group) ?? 0) + 1;
    seqs.set(m.group, seq);
    const { rows } = await pool.query<{ id: string; created_at: Date }>({ name: 'insert-message', text: INSERT, values: [m.groupId, seq, m.author.id, m.body, m.cmid] });
    const at = rows[0].created_at.toISOString();
    sockets.send(m.group, frame(m, rows[0].id, seq, at, at));
    return { id: rows[0].id, seq };
  };

  const request = jsonPost<RawSend>('/send', (m, answer) =>
    send(m).then(
      (sent) => answer(200, { data: { send: sent } }),
      (err: unknown) => answer(500, { error: String(err) }),
    ),
  );

  const sockets = serveRawSockets<Exclude<RawCommand, { t: 'stop' }>>(
    (cmd) => {
      if (cmd.t === 'tally') return void process.send!({ t: 'tally', tally });
      const delay: LoopDelay = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
      loop.reset();
      process.send!({ t: 'loop', delay });
    },
    () => pool.end(),
    request,
  );
}

runRawProcess(main);
