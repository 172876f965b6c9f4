/**
 * Group commit for sendMessage (issue 13). While a send statement is running, the sends that
 * arrive meanwhile wait for it; when it ends, they go to PostgreSQL together, as one
 * statement with one commit. A send that finds nothing running goes at once, alone, so a
 * lightly loaded service waits for nothing; under load, the fixed cost of a statement (its
 * round trip, executor start, locks, commit and WAL flush) is paid once per batch.
 *
 * The batch statement keeps every rule of the single one (send-statement.ts): membership,
 * a closed group, the reply target, idempotency on (group, author, clientMessageId), the
 * group's next seq under its row lock, the event row, moderation after delivery and the AI
 * job. Each send gets back exactly the row (or no row) the single statement would have
 * given it, and is answered only after the batch's commit.
 *
 * A group is in at most one running statement of this process, and a batch holds at most
 * one send per idempotency key; the others wait for the next batch, in arrival order.
 * Group rows are locked in id order, so two processes' batches cannot deadlock on them. A
 * batch that fails as a whole (a concurrent retry from another process committing the
 * same key first) is retried one send at a time, so that each send gets its own answer.
 */
import { preparedQuery } from '../db/prepared';
import type { DataSource } from 'typeorm';
import { USER_COLUMNS } from '../users/user.columns';
import { AiReach, ClaimsSendRow, MESSAGE_COLUMNS, SEND_BY_CLAIMS, SEND_BY_ID, SendRow } from './send-statement';

/** One send as the single statements take it. */
export interface SendParams {
  groupId: string;
  clientMessageId: string;
  body: string;
  replyToId: string | null;
  mentionUsernames: readonly string[];
  mentionsAi: boolean;
  reach: AiReach;
}

/** Who sends: a loaded user, or the token's claims the author's row must carry (send-statement.ts). */
export type SendAuthor =
  | { id: string }
  | { subject: string; region: string | null; plan: string; ageBand: string | null; parentalGroupChats: boolean };

type BatchRow = (SendRow | { [K in keyof SendRow]: null }) & { ord: string; sentOrd?: unknown; author: Record<string, unknown> | null };

/** A column list (`a, b AS "c"`) read from table alias `t`. */
const columnsOf = (list: string, t: string) => list.replace(/(^|,\s*)(\w+)/g, `$1${t}.$2`);
/** The output names of a column list, read from `t`, a CTE that selected it. */
const outputsOf = (list: string, t: string) => list.split(',').map((c) => `${t}.${c.match(/AS ("?\w+"?)\s*$/)?.[1] ?? c.trim()}`).join(', ');

/** $1 … $13: one array per column of the sends, the same length, in the order of `columns()`; $14 the `ai.respond` jobs' delay (send-statement.ts $9). */
export const SEND_BATCH = `WITH
     i AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::boolean[], $9::text[],
                            $10::text[], $11::text[], $12::text[], $13::boolean[])
         WITH ORDINALITY AS i(group_id, author_id, subject, cmid, body, reply_to_id, mentions, mentions_ai, reach,
                              region, plan, age_band, parental, ord)),
     -- By claims: the user row that carries exactly the token's claims (none: the caller upserts it).
     claimed AS (
       SELECT i.ord, ${columnsOf(USER_COLUMNS, 'u')}
         FROM i JOIN users u ON i.author_id IS NULL AND u.subject = i.subject AND u.region IS NOT DISTINCT FROM i.region
                            AND u.plan = i.plan AND u.age_band IS NOT DISTINCT FROM i.age_band AND u.parental_group_chats = i.parental),
     w AS (
       SELECT i.*, coalesce(i.author_id, (SELECT c.id FROM claimed c WHERE c.ord = i.ord AND c."suspendedAt" IS NULL)) AS writer FROM i),
     member AS (
       SELECT w.ord FROM w WHERE EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = w.group_id AND gm.user_id = w.writer)),
     existing AS (
       SELECT w.ord, ${columnsOf(MESSAGE_COLUMNS, 'm')}
         FROM w JOIN messages m ON m.group_id = w.group_id AND m.author_id = w.writer AND m.client_message_id = w.cmid),
     fresh AS (
       SELECT w.* FROM w
        WHERE w.ord IN (SELECT ord FROM member) AND w.ord NOT IN (SELECT ord FROM existing)
          AND (w.reply_to_id IS NULL OR EXISTS (SELECT 1 FROM messages r WHERE r.id = w.reply_to_id AND r.group_id = w.group_id))),
     locked AS MATERIALIZED (
       SELECT id FROM groups WHERE id IN (SELECT group_id FROM fresh) AND closed_at IS NULL ORDER BY id FOR UPDATE),
     g AS (
       UPDATE groups SET last_seq = groups.last_seq + n.count, last_event_at = now()
         FROM (SELECT group_id, count(*) AS count FROM fresh WHERE group_id IN (SELECT id FROM locked) GROUP BY group_id) n
        WHERE groups.id = n.group_id
        RETURNING groups.id, groups.last_seq - n.count AS base, groups.ai_mode, groups.safety_profile),
     numbered AS (
       SELECT f.*, g.base + row_number() OVER (PARTITION BY f.group_id ORDER BY f.ord) AS seq, g.ai_mode, g.safety_profile
         FROM fresh f JOIN g ON g.id = f.group_id),
     m AS (
       INSERT INTO messages (group_id, seq, kind, author_id, body, status, reply_to_id, client_message_id, mention_user_ids, mentions_ai)
       SELECT n.group_id, n.seq, 'USER', n.writer, n.body, 'SENT', n.reply_to_id, n.cmid,
              coalesce((SELECT array_agg(u.id ORDER BY array_position(names.list, u.username))
                          FROM (SELECT ARRAY(SELECT json_array_elements_text(n.mentions::json)) AS list) names
                          JOIN users u ON u.username = ANY(names.list)
                          JOIN group_members gm ON gm.user_id = u.id AND gm.group_id = n.group_id), '{}'),
              n.mentions_ai
         FROM numbered n ORDER BY n.ord
       RETURNING ${MESSAGE_COLUMNS}),
     e AS (
       INSERT INTO group_events (group_id, seq, type, message_id, actor_id)
       SELECT "groupId", seq, 'MESSAGE_CREATED', id, "authorId" FROM m
       RETURNING message_id, created_at),
     p AS (
       INSERT INTO moderation_pending (message_id) SELECT id FROM m),
     j AS (
       SELECT m.id, (graphile_worker.add_job('ai.respond', json_build_object('messageId', m.id), max_attempts => 5,
                                            run_at => now() + $14::int * interval '1 millisecond',
                                            job_key => 'ai.respond:' || m.id, job_key_mode => 'unsafe_dedupe')).id AS job_id
         FROM m JOIN numbered n ON n.group_id = m."groupId" AND n.seq = m.seq
        WHERE n.reach <> 'unavailable' AND (n.ai_mode = 'AUTO' OR (n.ai_mode = 'MENTIONS' AND n.reach = 'addressed'))),
     sent AS (
       SELECT n.ord AS "sentOrd", 'new' AS origin, m.*, e.created_at AS "eventAt", n.ai_mode AS "aiMode", n.safety_profile AS "safetyProfile",
              (SELECT j.job_id::text FROM j WHERE j.id = m.id) AS "aiJobId"
         FROM m JOIN numbered n ON n.group_id = m."groupId" AND n.seq = m.seq JOIN e ON e.message_id = m.id
       UNION ALL
       SELECT existing.ord, 'existing', ${outputsOf(MESSAGE_COLUMNS, 'existing')}, NULL, NULL, NULL, NULL
         FROM existing WHERE existing.ord IN (SELECT ord FROM member))
   SELECT i.ord::text AS ord, sent.*, (SELECT to_jsonb(c) - 'ord' FROM claimed c WHERE c.ord = i.ord) AS author
     FROM i LEFT JOIN sent ON sent."sentOrd" = i.ord`;

interface Pending {
  send: SendParams;
  author: SendAuthor;
  resolve(row: BatchRow): void;
  reject(err: unknown): void;
}

const keyOf = (p: Pending) => `${p.send.groupId}\u0000${'id' in p.author ? p.author.id : `s:${p.author.subject}`}\u0000${p.send.clientMessageId}`;

/**
 * Stores sends, in batches when they wait for each other. `maxStatements` batches run at a
 * time (each on its own pooled connection), each of at most `maxBatch` sends.
 */
export class SendBatcher {
  private readonly queue: Pending[] = [];
  private readonly busyGroups = new Set<string>();
  private running = 0;

  constructor(
    private readonly db: DataSource,
    /** How long the `ai.respond` jobs the sends enqueue wait for any worker ($9 of send-statement.ts). */
    private readonly aiJobDelayMs = 0,
    private readonly maxStatements = 4,
    private readonly maxBatch = 64,
    /** Told each statement's number of sends and how many sends wait after it started (metrics). */
    private readonly observe: { batch(size: number): void; waiting(count: number): void; fallback(): void } = {
      batch: () => undefined,
      waiting: () => undefined,
      fallback: () => undefined,
    },
  ) {}

  /** The single statement's row for a send by a loaded user: none when nothing was sent. */
  async byId(send: SendParams, authorId: string): Promise<SendRow[]> {
    const row = await this.submit(send, { id: authorId });
    return row.origin === null ? [] : [strip(row) as SendRow];
  }

  /** The single statement's row for a send by the token's claims. */
  async byClaims(send: SendParams, claims: Exclude<SendAuthor, { id: string }>): Promise<ClaimsSendRow> {
    return strip(await this.submit(send, claims)) as ClaimsSendRow;
  }

  private submit(send: SendParams, author: SendAuthor): Promise<BatchRow> {
    return new Promise<BatchRow>((resolve, reject) => {
      this.queue.push({ send, author, resolve, reject });
      this.pump();
    });
  }

  /** Starts statements while there is room: each takes every waiting send it may, in arrival order. */
  private pump(): void {
    this.drain();
    this.observe.waiting(this.queue.length);
  }

  private drain(): void {
    while (this.running < this.maxStatements && this.queue.length > 0) {
      const batch: Pending[] = [];
      const groups = new Set<string>();
      const keys = new Set<string>();
      for (let k = 0; k < this.queue.length && batch.length < this.maxBatch; ) {
        const p = this.queue[k];
        const key = keyOf(p);
        // A group another statement holds waits for it (its seq order); a repeated key for the next batch.
        if (this.busyGroups.has(p.send.groupId) || keys.has(key)) {
          k++;
          continue;
        }
        this.queue.splice(k, 1);
        batch.push(p);
        groups.add(p.send.groupId);
        keys.add(key);
      }
      if (batch.length === 0) return;
      for (const g of groups) this.busyGroups.add(g);
      this.running++;
      void this.store(batch).finally(() => {
        for (const g of groups) this.busyGroups.delete(g);
        this.running--;
        this.pump();
      });
    }
  }

  private async store(batch: Pending[]): Promise<void> {
    this.observe.batch(batch.length);
    if (batch.length === 1) return this.storeAlone(batch[0]);
    let rows: BatchRow[];
    try {
      rows = await preparedQuery<BatchRow>(this.db, 'send-message-batch', SEND_BATCH, columns(batch, this.aiJobDelayMs));
    } catch {
      // All or nothing failed: each send again on its own, for its own answer (its own 23505).
      this.observe.fallback();
      await Promise.all(batch.map((p) => this.storeAlone(p)));
      return;
    }
    const answered = new Set<number>();
    for (const row of rows) {
      const k = Number(row.ord) - 1;
      answered.add(k);
      batch[k].resolve(row);
    }
    // The statement answers every send; one it did not must not wait for ever.
    for (const [k, p] of batch.entries()) if (!answered.has(k)) p.reject(new Error('the send batch returned no row for a send'));
  }

  /** One send through the single statement, answered in the batch's row shape. */
  private async storeAlone(p: Pending): Promise<void> {
    const params = singleParams(p.send, 'id' in p.author ? p.author.id : p.author.subject, this.aiJobDelayMs);
    try {
      if ('id' in p.author) {
        const [row] = await preparedQuery<SendRow>(this.db, 'send-message', SEND_BY_ID, params);
        p.resolve({ ...(row ?? NOTHING), ord: '1', author: null } as BatchRow);
      } else {
        const a = p.author;
        const [row] = await preparedQuery<ClaimsSendRow>(this.db, 'send-message-by-claims', SEND_BY_CLAIMS, [...params, a.region, a.plan, a.ageBand, a.parentalGroupChats]);
        p.resolve({ ...row, ord: '1' } as BatchRow);
      }
    } catch (err) {
      p.reject(err);
    }
  }
}

const NOTHING = { origin: null };

/** $1 … $9 of the single statements (send-statement.ts). */
export function singleParams(s: SendParams, author: string, aiJobDelayMs: number): unknown[] {
  return [s.groupId, author, s.clientMessageId, s.body, s.replyToId, s.mentionUsernames, s.mentionsAi, s.reach, aiJobDelayMs];
}

function strip({ ord: _ord, sentOrd: _sent, ...row }: BatchRow): Omit<BatchRow, 'ord' | 'sentOrd'> {
  return row;
}

function columns(batch: Pending[], delayMs: number): unknown[] {
  const col = <T>(f: (p: Pending) => T) => batch.map(f);
  const claims = (p: Pending) => ('id' in p.author ? null : p.author);
  return [
    col((p) => p.send.groupId),
    col((p) => ('id' in p.author ? p.author.id : null)),
    col((p) => claims(p)?.subject ?? null),
    col((p) => p.send.clientMessageId),
    col((p) => p.send.body),
    col((p) => p.send.replyToId),
    col((p) => JSON.stringify(p.send.mentionUsernames)),
    col((p) => p.send.mentionsAi),
    col((p) => p.send.reach),
    col((p) => claims(p)?.region ?? null),
    col((p) => claims(p)?.plan ?? null),
    col((p) => claims(p)?.ageBand ?? null),
    col((p) => claims(p)?.parentalGroupChats ?? null),
    delayMs,
  ];
}
