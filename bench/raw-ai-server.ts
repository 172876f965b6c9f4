/**
 * bench:ai's raw baseline, run as its own process: what streaming a reply into a group
 * costs by hand, with the minimum the product cannot do without. The human message comes
 * over HTTP (`POST /reply`, from the bench's own client, as the service's sendMessage does)
 * and is stored with the service's own send statement (its moderation row going to a table
 * of this baseline's), answered after its commit; then, in the same process with no queue,
 * a prepared INSERT of the STREAMING message, the provider request over node:http with the SSE body split
 * and JSON-parsed here, the first fragment sent at once and the rest batched with the
 * service's own DeltaBatcher and settings (so both send the same frames), then at
 * `[DONE]` a prepared UPDATE of the final text, committed, and only then the completed
 * event. Each event's frame is stringified once and `ws.send` to every socket of the
 * group. No GraphQL, auth, quota, moderation, routing or event log.
 */
import http from 'node:http';
import { Pool } from 'pg';
import { DeltaBatcher } from '../api/src/ai/delta-batcher';
import { SEND_BY_ID } from '../api/src/messages/send-statement';
import { failed, jsonPost, runRawProcess, serveRawSockets } from './raw-process';

/** The body of `POST /reply`: a member's message to the raw baseline's own copy of a group. */
export interface RawReply {
  /** The group's index: which sockets get the events. */
  group: number;
  groupId: string;
  authorId: string;
  clientMessageId: string;
  /** The message, and the prompt's last user message: the bench matches the provider request by it. */
  prompt: string;
}

export type RawAiCommand = { t: 'stop' };

const MODERATION = 'INSERT INTO moderation_pending';
/** The service's send statement, its moderation row going to a table of the same shape that only this baseline writes. */
const SEND = SEND_BY_ID.replace(MODERATION, 'INSERT INTO bench_raw_ai_moderation_pending');

const INSERT = `INSERT INTO bench_raw_ai_messages (group_id, status) VALUES ($1, 'STREAMING') RETURNING id, created_at`;
const FINISH = `UPDATE bench_raw_ai_messages SET body = $2, status = 'COMPLETED' WHERE id = $1`;

async function main(): Promise<void> {
  const provider = new URL(process.env.PROVIDER_URL!);
  const flushMs = Number(process.env.FLUSH_MS);
  const flushChars = Number(process.env.FLUSH_CHARS);
  if (SEND_BY_ID.split(MODERATION).length !== 2) throw new Error(`the send statement no longer has exactly one "${MODERATION}"`);
  // Like the service's pool (api/src/db/data-source.ts): its size, and generic plans from the first execution.
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20, options: '-c plan_cache_mode=force_generic_plan' });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_ai_moderation_pending (LIKE moderation_pending INCLUDING ALL)`);
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_ai_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      group_id uuid NOT NULL,
      body text NOT NULL DEFAULT '',
      status text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const broadcast = (group: number, event: Record<string, unknown>) =>
    sockets.send(group, JSON.stringify({ id: '1', type: 'next', payload: { data: { groupEvents: event } } }));

  /** POSTs the chat request and calls `onDelta` per content fragment; resolves at `[DONE]`. */
  const stream = (prompt: string, onDelta: (text: string) => void) =>
    new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ model: 'raw', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] });
      const req = http.request(
        new URL('chat/completions', provider.href.endsWith('/') ? provider : `${provider.href}/`),
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer raw' } },
        (res) => {
          let text = '';
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            pending += chunk;
            let end: number;
            while ((end = pending.indexOf('\n\n')) >= 0) {
              const event = pending.slice(0, end);
              pending = pending.slice(end + 2);
              if (!event.startsWith('data: ')) continue;
              const data = event.slice(6);
              if (data === '[DONE]') return resolve(text);
              const content = JSON.parse(data).choices?.[0]?.delta?.content;
              if (content) {
                text += content;
                onDelta(content);
              }
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const reply = async (r: RawReply): Promise<void> => {
    const { rows } = await pool.query<{ id: string; created_at: Date }>({ name: 'insert', text: INSERT, values: [r.groupId] });
    const id = rows[0].id;
    broadcast(r.group, { seq: null, type: 'MESSAGE_CREATED', message: { id, kind: 'AI', status: 'STREAMING' }, delta: null });
    const batcher = new DeltaBatcher(flushMs, flushChars, (text, offset) =>
      broadcast(r.group, { seq: null, type: 'AI_DELTA', message: null, delta: { messageId: id, text, offset } }),
    );
    const text = await stream(r.prompt, (t) => batcher.push(t));
    batcher.flush();
    await pool.query({ name: 'finish', text: FINISH, values: [id, text] });
    broadcast(r.group, { seq: null, type: 'AI_COMPLETED', message: { id, kind: 'AI', status: 'COMPLETED' }, delta: null });
  };

  /** Stores the member's message (answered after its commit), then streams the AI's reply. */
  const request = jsonPost<RawReply>('/reply', (r, answer) => {
    let answered = false;
    pool
      .query<{ id: string; seq: number }>({ name: 'send-message', text: SEND, values: [r.groupId, r.authorId, r.clientMessageId, r.prompt, null, '{}', true, 'unavailable', 0] })
      .then(({ rows }) => {
        if (!rows[0]) throw new Error('the send statement stored nothing');
        answer(200, { data: { sendMessage: { id: rows[0].id, seq: rows[0].seq } } });
        answered = true;
        return reply(r);
      })
      .catch((err: unknown) => {
        if (!answered) answer(500, { error: String(err) });
        failed('reply')(err);
      });
  });

  const sockets = serveRawSockets<RawAiCommand>(
    () => undefined,
    () => {
      agent.destroy();
      return pool.end();
    },
    request,
  );
}

runRawProcess(main);
