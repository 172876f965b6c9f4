/**
 * The statement behind sendMessage (docs/product.md §3). In one round trip it checks
 * membership, takes the group's next seq under its row lock, inserts the message and its
 * event, and is idempotent on (group, author, clientMessageId). It leaves the message's
 * row for moderation after delivery, and when the group's AI is on, the same statement enqueues the message's `ai.respond` job (jobs/), so the message
 * and the job that answers it commit together.
 *
 * It comes in two forms. By author id, for a request that has loaded its user. By the
 * token's claims, for a sendMessage whose request has not: the statement finds the author
 * whose row carries exactly these claims and is not suspended, and returns that row too,
 * so sending costs one round trip instead of a user read followed by the send. When no
 * row matches (first request, or claims that changed) nothing is written and the caller
 * upserts the user as every other request does, then sends by id.
 */
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import type { Identity } from '../auth/jwt';
import { USER_COLUMNS } from '../users/user.columns';
import type { UserEntity } from '../users/user.entity';
import type { MessageEntity } from './message.entity';

export const MESSAGE_COLUMNS = `id, group_id AS "groupId", seq::int AS seq, kind, author_id AS "authorId", body, status,
  status_reason AS "statusReason", reply_to_id AS "replyToId", client_message_id AS "clientMessageId",
  mention_user_ids AS "mentionUserIds", mentions_ai AS "mentionsAi", edited_at AS "editedAt", deleted_at AS "deletedAt",
  created_at AS "createdAt"`;

export type SendRow = MessageEntity & {
  origin: 'new' | 'existing';
  eventAt: Date;
  aiMode: 'AUTO' | 'MENTIONS' | 'OFF' | null;
  safetyProfile: SafetyProfileName | null;
  /** The `ai.respond` job enqueued with the message (its group's AI is on), by id; null when none was. */
  aiJobId: string | null;
};

/** By claims: at most one row, whose `author` is the matching user row as JSON (null when none matches). */
export type ClaimsSendRow = (SendRow | { [K in keyof SendRow]: null }) & { author: Record<string, unknown> | null };

/**
 * $1 group, $2 author (id, or subject), $3 clientMessageId, $4 body, $5 replyToId, $6 mentioned
 * usernames, $7 mentions the AI, $8 what the AI may do with the message (AiReach), $9 how many
 * milliseconds the `ai.respond` job waits before any worker may take it (one reply lease when this
 * process runs it itself: ai/respond-here.processor.ts; 0 otherwise).
 */
function statement(author: string, prelude: string): string {
  return `WITH ${prelude}
     existing AS (
       SELECT ${MESSAGE_COLUMNS} FROM messages WHERE group_id = $1 AND author_id = ${author} AND client_message_id = $3),
     member AS (
       SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = ${author}),
     g AS (
       UPDATE groups SET last_seq = last_seq + 1, last_event_at = now()
        WHERE id = $1 AND closed_at IS NULL AND EXISTS (SELECT 1 FROM member) AND NOT EXISTS (SELECT 1 FROM existing)
          AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $5 AND group_id = $1))
        RETURNING last_seq, ai_mode, safety_profile),
     m AS (
       INSERT INTO messages (group_id, seq, kind, author_id, body, status, reply_to_id, client_message_id, mention_user_ids, mentions_ai)
       SELECT $1, g.last_seq, 'USER', ${author}, $4, 'SENT', $5, $3,
              coalesce((SELECT array_agg(u.id ORDER BY array_position($6::text[], u.username))
                          FROM users u JOIN group_members gm ON gm.user_id = u.id AND gm.group_id = $1
                         WHERE u.username = ANY($6::text[])), '{}'),
              $7
         FROM g
       RETURNING ${MESSAGE_COLUMNS}),
     e AS (
       INSERT INTO group_events (group_id, seq, type, message_id, actor_id)
       SELECT "groupId", seq, 'MESSAGE_CREATED', id, "authorId" FROM m
       RETURNING created_at),
     -- Moderation after delivery, durable: settled in batches (moderation/after-delivery.processor.ts).
     p AS (
       INSERT INTO moderation_pending (message_id) SELECT id FROM m),
     -- The AI's reply as a durable job, committed with the message, one per message (its job
     -- key), and only for a message the AI may answer: a provider is configured, and the group
     -- is in AUTO mode, or in MENTIONS mode and the message speaks to the AI ($8).
     j AS (
       SELECT (graphile_worker.add_job('ai.respond', json_build_object('messageId', m.id), max_attempts => 5,
                                      run_at => now() + $9::int * interval '1 millisecond',
                                      job_key => 'ai.respond:' || m.id, job_key_mode => 'unsafe_dedupe')).id AS job_id
         FROM m, g WHERE $8::text <> 'unavailable' AND (g.ai_mode = 'AUTO' OR (g.ai_mode = 'MENTIONS' AND $8::text = 'addressed')))`;
}

const RESULT = `SELECT 'new' AS origin, m.*, (SELECT created_at FROM e) AS "eventAt", g.ai_mode AS "aiMode", g.safety_profile AS "safetyProfile",
            (SELECT job_id::text FROM j) AS "aiJobId" FROM m, g
     UNION ALL
     SELECT 'existing' AS origin, existing.*, NULL, NULL, NULL, NULL FROM existing WHERE EXISTS (SELECT 1 FROM member)`;

export const SEND_BY_ID = `${statement('$2', '')}
     ${RESULT}`;

/** $10 region, $11 plan, $12 age band, $13 parental group chats: the claims the author's row must carry. */
export const SEND_BY_CLAIMS = `${statement(
  '(SELECT id FROM writer)',
  `author AS (
       SELECT ${USER_COLUMNS} FROM users WHERE subject = $2 AND region IS NOT DISTINCT FROM $10 AND plan = $11
          AND age_band IS NOT DISTINCT FROM $12 AND parental_group_chats = $13),
     writer AS (
       SELECT id FROM author WHERE "suspendedAt" IS NULL),`,
)},
     result AS (
     ${RESULT})
     SELECT result.*, (SELECT to_jsonb(author) FROM author) AS author FROM (SELECT) AS one LEFT JOIN result ON true`;

/**
 * What the AI may do with a message, decided before the statement: `unavailable` without a
 * model provider; `addressed` when the message speaks to it (any mode but OFF answers);
 * `unaddressed` otherwise (only AUTO mode may still answer).
 */
export type AiReach = 'unavailable' | 'addressed' | 'unaddressed';

/** The claims an author's row must carry, as $10 … $13 take them. */
export const claimsOf = ({ region, plan, ageBand, parentalGroupChats }: Identity) => ({ region, plan, ageBand, parentalGroupChats });
export const claimsParams = (identity: Identity) => Object.values(claimsOf(identity));

/** The author row the claims statement returned as JSON, with its timestamps as dates again. */
export function userFromJson(json: Record<string, unknown>): UserEntity {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return { ...(json as unknown as UserEntity), suspendedAt: date(json.suspendedAt), createdAt: date(json.createdAt)!, updatedAt: date(json.updatedAt)! };
}
