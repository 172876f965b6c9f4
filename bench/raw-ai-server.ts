/**
 * bench:ai's raw baseline, run as its own process: what streaming a reply into a group
 * costs by hand, with the minimum the product cannot do without. A prepared INSERT of
 * the STREAMING message, the provider request over node:http with the SSE body split
 * and JSON-parsed here, the first fragment sent at once and the rest batched with the
 * service's own DeltaBatcher and settings (so both send the same frames), then at
 * `[DONE]` a prepared UPDATE of the final text, committed, and only then the completed
 * event. Each event's frame is stringified once and `ws.send` to every socket of the
 * group. No GraphQL, auth, quota, moderation, routing or event log.
 */
import http from 'node:http';
import { Pool } from 'pg';
import { DeltaBatcher } from '../api/src/ai/delta-batcher';
import { failed, runRawProcess, serveRawSockets } from './raw-process';

export interface RawReply {
  t: 'reply';
  group: number;
  groupId: string;
  /** The prompt's last user message: the bench matches the provider request by it. */
  prompt: string;
}

export type RawAiCommand = RawReply | { t: 'stop' };

const INSERT = `INSERT INTO bench_raw_ai_messages (group_id, status) VALUES ($1, 'STREAMING') RETURNING id, created_at`;
const FINISH = `UPDATE bench_raw_ai_messages SET body = $2, status = 'COMPLETED' WHERE id = $1`;

async function main(): Promise<void> {
  const provider = new URL(process.env.PROVIDER_URL!);
  const flushMs = Number(process.env.FLUSH_MS);
  const flushChars = Number(process.env.FLUSH_CHARS);
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
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

  const sockets = serveRawSockets<RawReply>(
    (cmd) => void reply(cmd).catch(failed('reply')),
    () => {
      agent.destroy();
      return pool.end();
    },
  );
}

runRawProcess(main);
