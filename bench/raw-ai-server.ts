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
 *
 * With `work: 'same'` it does by hand the work the service does for a reply, with the
 * service's own statements and pure functions but none of its framework: the send enqueues
 * the `ai.respond` job (due one lease later, as the service's own sends do); the message is
 * scored by the built-in classifier (on a thread, as in the service) and its moderation row
 * deleted while the reply's setting is read (LOAD_REPLY_SETTING: trigger, payer, members, 40
 * messages of history); the unit is reserved with the STREAMING message and its event
 * (START_AI_REPLY, under a lease of this process's own), the job completed, the prompt built
 * (buildGroupPrompt), the reply streamed, its text scored, and the message ended and its
 * response settled in one statement (FINISH_AI_MESSAGE). Still no GraphQL, token, rollout
 * rules, router, job queue worker, promise lane or OpenAI SDK.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Pool } from 'pg';
import { DeltaBatcher } from '../api/src/ai/delta-batcher';
import { FINISH_AI_MESSAGE, START_AI_REPLY } from '../api/src/ai/ai-message.store';
import { HISTORY_MESSAGES, LOAD_REPLY_SETTING } from '../api/src/ai/group-context';
import { buildGroupPrompt, ChatMessage } from '../api/src/domain/prompt/build-prompt';
import { moderationDecision } from '../api/src/domain/safety/moderation';
import { ClassifierThread } from '../api/src/moderation/classifier-thread';
import type { SafetyProfileName } from '../api/src/domain/safety/safety-profile';
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
  /** `same`: the service's work, by hand (see above); otherwise the minimum. */
  work?: 'same';
  /** `same`: the payer's quota (AI_QUOTA of the service) and the job's delay (its AI_REPLY_LEASE_MS). */
  quota?: { max: number; windowMs: number };
  jobDelayMs?: number;
}

export type RawAiCommand = { t: 'stop' };

const MODERATION = 'INSERT INTO moderation_pending';
/** The service's send statement, its moderation row going to a table of the same shape that only this baseline writes. */
const SEND = SEND_BY_ID.replace(MODERATION, 'INSERT INTO bench_raw_ai_moderation_pending');

const PROFILES: readonly SafetyProfileName[] = ['STANDARD', 'TEEN'];

interface SentRow {
  id: string;
  seq: number;
  aiJobId: string | null;
}

/** LOAD_REPLY_SETTING's row, as far as the prompt reads it. */
interface Setting {
  safetyProfile: SafetyProfileName;
  customInstructions: string;
  members: Array<{ displayName: string; username: string }>;
  history: Array<{ kind: 'USER' | 'AI' | 'SYSTEM'; authorUsername: string | null; body: string }>;
}

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
  // The lease the same-work replies are started under: a live instance of its own, so no sweep of the service's takes them over.
  const owner = randomUUID();
  // The service's built-in classifier on a thread of its own, as the service runs it.
  const classifier = new ClassifierThread();
  await pool.query(`INSERT INTO service_instances (id, expires_at) VALUES ($1, now() + interval '1 day')`, [owner]);

  const broadcast = (group: number, event: Record<string, unknown>) =>
    sockets.send(group, JSON.stringify({ id: '1', type: 'next', payload: { data: { groupEvents: event } } }));

  /** POSTs the chat request and calls `onDelta` per content fragment; resolves at `[DONE]`. */
  const stream = (messages: ChatMessage[], onDelta: (text: string) => void) =>
    new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ model: 'raw', stream: true, stream_options: { include_usage: true }, messages });
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
    const text = await stream([{ role: 'user', content: r.prompt }], (t) => batcher.push(t));
    batcher.flush();
    await pool.query({ name: 'finish', text: FINISH, values: [id, text] });
    broadcast(r.group, { seq: null, type: 'AI_COMPLETED', message: { id, kind: 'AI', status: 'COMPLETED' }, delta: null });
  };

  /** The service's work for the reply, by hand: see the top of this file. */
  const replySame = async (r: RawReply, sent: SentRow): Promise<void> => {
    if (sent.aiJobId === null) throw new Error('the send statement enqueued no ai.respond job');
    broadcast(r.group, { seq: sent.seq, type: 'MESSAGE_CREATED', message: { id: sent.id, kind: 'USER', status: 'SENT' }, delta: null });
    // Moderation after delivery, whose verdict is also the AI's input check, while the reply's setting is read.
    // Its row is settled on the side, as the service's moderation processor does.
    const moderated = classifier.classify(r.prompt).then((scores) => {
      pool.query({ name: 'moderated', text: `DELETE FROM bench_raw_ai_moderation_pending WHERE message_id = $1`, values: [sent.id] }).catch(failed('moderation row'));
      return scores;
    });
    const [input, { rows: settings }] = await Promise.all([moderated, pool.query<Setting>({ name: 'ai-load-reply', text: LOAD_REPLY_SETTING, values: [sent.id, HISTORY_MESSAGES] })]);
    const setting = settings[0];
    if (!setting || moderationDecision(input, setting.safetyProfile).block) throw new Error('the reply setting is missing, or the message is blocked');
    const now = new Date();
    const { max, windowMs } = r.quota!;
    const { rows: starts } = await pool.query<{ responseId: string | null; id: string; seq: number }>({
      name: 'ai-start-reply',
      text: START_AI_REPLY,
      values: [r.authorId, new Date(now.getTime() - windowMs), max, now, r.groupId, sent.id, 'plus', 'fast', 'raw', 'mention', owner],
    });
    const start = starts[0];
    if (!start?.responseId) throw new Error('start_ai_reply reserved nothing');
    const id = start.id;
    broadcast(r.group, { seq: start.seq, type: 'MESSAGE_CREATED', message: { id, kind: 'AI', status: 'STREAMING' }, delta: null });
    await pool.query({ name: 'complete-job', text: `SELECT graphile_worker.complete_jobs(ARRAY[$1::bigint])`, values: [sent.aiJobId] });
    const messages = buildGroupPrompt({
      aiName: 'AI',
      profile: setting.safetyProfile,
      customInstructions: setting.customInstructions,
      members: setting.members,
      history: setting.history.map((m) => ({ kind: m.kind, authorUsername: m.authorUsername, body: m.body })),
      tokenBudget: 4000,
    });
    const batcher = new DeltaBatcher(flushMs, flushChars, (text, offset) =>
      broadcast(r.group, { seq: null, type: 'AI_DELTA', message: null, delta: { messageId: id, text, offset } }),
    );
    const text = await stream(messages, (t) => batcher.push(t));
    batcher.flush();
    const scores = await classifier.classify(text);
    if (moderationDecision(scores, setting.safetyProfile).block) throw new Error('the reply was blocked');
    const blockedUnder = PROFILES.filter((p) => p !== setting.safetyProfile && moderationDecision(scores, p).block);
    const { rows: ended } = await pool.query<{ eventSeq: number }>({
      name: 'ai-finish-message',
      text: FINISH_AI_MESSAGE,
      values: [r.groupId, id, text, 'COMPLETED', null, blockedUnder, null, start.responseId, null, null, Date.now() - now.getTime(), start.responseId, owner, null, true],
    });
    if (!ended[0]) throw new Error('the reply was not ended');
    broadcast(r.group, { seq: ended[0].eventSeq, type: 'AI_COMPLETED', message: { id, kind: 'AI', status: 'COMPLETED' }, delta: null });
  };

  /** Stores the member's message (answered after its commit), then streams the AI's reply. */
  const request = jsonPost<RawReply>('/reply', (r, answer) => {
    let answered = false;
    const same = r.work === 'same';
    pool
      .query<SentRow>({ name: 'send-message', text: SEND, values: [r.groupId, r.authorId, r.clientMessageId, r.prompt, null, '{}', true, same ? 'addressed' : 'unavailable', same ? r.jobDelayMs : 0] })
      .then(({ rows }) => {
        if (!rows[0]) throw new Error('the send statement stored nothing');
        answer(200, { data: { sendMessage: { id: rows[0].id, seq: rows[0].seq } } });
        answered = true;
        return same ? replySame(r, rows[0]) : reply(r);
      })
      .catch((err: unknown) => {
        if (!answered) answer(500, { error: String(err) });
        failed('reply')(err);
      });
  });

  const sockets = serveRawSockets<RawAiCommand>(
    () => undefined,
    async () => {
      agent.destroy();
      await pool.query(`DELETE FROM service_instances WHERE id = $1`, [owner]);
      await classifier.close();
      await pool.end();
    },
    request,
  );
}

runRawProcess(main);
