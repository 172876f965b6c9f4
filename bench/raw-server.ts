/**
 * The fan-out bench's raw baseline, run as its own process: what delivering a chat
 * message costs by hand. One prepared INSERT of a message-like row, then the event's
 * JSON built and stringified once and `ws.send` to every socket of the group. No
 * GraphQL, no auth, no ordering guarantees. The parent drives it over IPC and collects
 * the INSERT start times (CLOCK_MONOTONIC ns) at the end.
 */
import http from 'node:http';
import { Pool } from 'pg';
import { WebSocketServer, WebSocket } from 'ws';

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

  const groups = new Map<number, Set<WebSocket>>();
  const seqs = new Map<number, number>();
  const starts: Array<[string, number]> = [];
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    const g = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('g'));
    if (!groups.has(g)) groups.set(g, new Set());
    groups.get(g)!.add(socket);
    socket.on('close', () => groups.get(g)!.delete(socket));
  });

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
    for (const s of groups.get(m.group) ?? []) s.send(frame);
  };

  process.on('message', (cmd: RawCommand) => {
    if (cmd.t === 'send') {
      send(cmd).catch((err) => {
        console.error('raw baseline send failed', err);
        process.exitCode = 1;
      });
    } else if (cmd.t === 'report') {
      process.send!({ t: 'report', starts: starts.splice(0) });
    } else {
      for (const c of wss.clients) c.terminate();
      server.close();
      void pool.end().then(() => process.exit(0));
    }
  });
  server.listen(0, '127.0.0.1', () => process.send!({ t: 'ready', port: (server.address() as { port: number }).port }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
