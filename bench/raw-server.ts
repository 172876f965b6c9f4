/**
 * The fan-out bench's raw baseline, run as its own process: what delivering a chat
 * message costs by hand. One prepared INSERT of a message-like row, then the event's
 * JSON built and stringified once and `ws.send` to every socket of the group. No
 * GraphQL, no auth, no ordering guarantees. The parent drives it over IPC and collects
 * the INSERT start times (CLOCK_MONOTONIC ns) at the end.
 */
import { Pool } from 'pg';
import { failed, runRawProcess, serveRawSockets } from './raw-process';

export interface RawSend {
  t: 'send';
  group: number;
  groupId: string;
  cmid: string;
  body: string;
  author: { id: string; username: string; displayName: string; photoUrl: string };
}

export type RawCommand = RawSend | { t: 'report' } | { t: 'stop' };

const INSERT = `INSERT INTO bench_raw_messages (group_id, seq, author_id, body, client_message_id)
  VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`;

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      group_id uuid NOT NULL,
      seq bigint NOT NULL,
      author_id uuid NOT NULL,
      body text NOT NULL,
      client_message_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (group_id, seq))`);

  const seqs = new Map<number, number>();
  const starts: Array<[string, number]> = [];

  const send = async (m: RawSend): Promise<void> => {
    const seq = (seqs.get(m.group) ?? 0) + 1;
    seqs.set(m.group, seq);
    starts.push([m.cmid, Number(process.hrtime.bigint())]);
    const { rows } = await pool.query<{ id: string; created_at: Date }>({
      name: 'insert-message',
      text: INSERT,
      values: [m.groupId, seq, m.author.id, m.body, m.cmid],
    });
    const at = rows[0].created_at.toISOString();
    const author = m.author;
    const payload = JSON.stringify({
      data: {
        groupEvents: {
          seq,
          type: 'MESSAGE_CREATED',
          groupId: m.groupId,
          occurredAt: at,
          actor: { id: author.id, username: author.username, displayName: author.displayName },
          message: { id: rows[0].id, seq, body: m.body, clientMessageId: m.cmid, createdAt: at, author },
        },
      },
    });
    const frame = `{"id":"1","type":"next","payload":${payload}}`;
    sockets.send(m.group, frame);
  };

  const sockets = serveRawSockets<Exclude<RawCommand, { t: 'stop' }>>(
    (cmd) => {
      if (cmd.t === 'send') send(cmd).catch(failed('send'));
      else process.send!({ t: 'report', starts: starts.splice(0) });
    },
    () => pool.end(),
  );
}

runRawProcess(main);
