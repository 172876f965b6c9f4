/**
 * The AI's message in a group: created STREAMING (with the quota reservation that pays
 * for it), ended COMPLETED, FAILED or BLOCKED. Each step is one statement that locks the
 * group row, writes the message and appends its event, and returns what the live event
 * is built from. The end of a reply reaches subscribers one round trip after
 * moderation, not a transaction and a re-read later.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '../db/prepared';
import { evaluateQuota, QuotaLimit, QuotaStatus } from '../domain/quota/evaluate-quota';
import type { Tier } from '../domain/router/select-model';
import { CategoryScores, moderationDecision } from '../domain/safety/moderation';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import { buildEventView } from '../events/event-log';
import { GroupEventKind, GroupEventType } from '../events/group-event.type';
import type { MessageEntity } from '../messages/message.entity';
import { MESSAGE_COLUMNS } from '../messages/send-statement';
import { buildMessageView, loadMessageViews } from '../messages/message.views';
import type { MessageType } from '../messages/message.type';
import type { SettledResponse } from './reply/reply-chat';

export interface AiMessageRef {
  id: string;
  groupId: string;
  seq: number;
}

export type AiMessageEnd = 'COMPLETED' | 'FAILED' | 'BLOCKED';

/** A COMPLETED reply's moderation scores and the profile they were judged under. */
export interface Verdict {
  scores: CategoryScores;
  profile: SafetyProfileName;
}

const PROFILES: readonly SafetyProfileName[] = ['STANDARD', 'TEEN'];

/** What a group reply reserves and creates in one call (see the start_ai_reply migration). */
export interface ReplyStartInput {
  user: { id: string; plan: string };
  limit: QuotaLimit;
  groupId: string;
  triggerMessageId: string;
  tier: Tier;
  model: string;
  routeReason: string;
  /** The instance that streams the reply: its lease (jobs/instance-lease.ts). */
  leaseOwner?: string | null;
}

export type ReplyStart =
  | { started: true; responseId: string; status: QuotaStatus; message: AiMessageRef; event: GroupEventType }
  | { started: false; closed: true }
  | { started: false; duplicate: true }
  | { started: false; closed: false; status: QuotaStatus };

/** The statement behind startAiReply: $1 user, $2 window start, $3 limit, $4 now, $5 group, $6 trigger, $7 plan, $8 tier, $9 model, $10 route reason, $11 lease owner. */
export const START_AI_REPLY = `SELECT r.response_id AS "responseId", r.usage, r.event_at AS "eventAt", r.duplicate, m.*
       FROM start_ai_reply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) r
       LEFT JOIN LATERAL (SELECT ${MESSAGE_COLUMNS} FROM (SELECT (r.message).*) x WHERE x.id IS NOT NULL) m ON true`;

/**
 * Reserves a unit of the author's quota and creates the AI's message as STREAMING, with its
 * own seq and MESSAGE_CREATED event, in one statement; or, when no unit is left, returns the
 * exhausted status; or, when the group is closed, does nothing.
 */
export async function startAiReply(db: DataSource, input: ReplyStartInput): Promise<ReplyStart> {
  const now = new Date();
  const [row] = await preparedQuery<MessageEntity & { responseId: string | null; usage: Date[] | null; eventAt: Date | null; duplicate: boolean }>(
    db,
    'ai-start-reply',
    START_AI_REPLY,
    [input.user.id, new Date(now.getTime() - input.limit.windowMs), input.limit.max, now, input.groupId, input.triggerMessageId, input.user.plan, input.tier, input.model, input.routeReason, input.leaseOwner ?? null],
  );
  // The trigger already has its reply (a job run twice, or two workers racing): nothing was done.
  if (row?.duplicate) return { started: false, duplicate: true };
  if (!row || row.usage === null) return { started: false, closed: true };
  const { responseId, usage, eventAt, duplicate: _duplicate, ...message } = row;
  const status = evaluateQuota(usage, input.limit, now);
  if (!responseId) return { started: false, closed: false, status };
  return {
    started: true,
    responseId,
    status,
    message: { id: message.id, groupId: input.groupId, seq: Number(message.seq) },
    event: eventView(GroupEventKind.MESSAGE_CREATED, Number(message.seq), eventAt!, buildMessageView(message as MessageEntity, new Map())),
  };
}

/** How a reply's end is checked against the group's profile, read under the row lock (the join that changes it takes the same lock). */
export interface FinishCheck {
  /** A COMPLETED reply is re-judged under the profile in force and ends BLOCKED when that profile blocks it. */
  verdict?: Verdict;
  /** Nothing is stored unless the profile in force is this one: the caller judged under it. */
  onlyUnder?: SafetyProfileName;
}

/** The reply's lease: only the instance that holds it may end it (jobs/instance-lease.ts). */
export interface ReplyLease {
  responseId: string;
  owner: string;
}

/**
 * The statement behind finishAiMessage: $1 group, $2 message, $3 body, $4 status, $5 reason,
 * $6 profiles under which the reply is blocked, $7 the only profile it may be stored under,
 * $8 … $11 the model response settled with it (id, prompt and completion tokens, latency),
 * $12 and $13 the lease (response id, owner), $14 the reply's context, $15 whether the
 * response stays charged.
 */
export const FINISH_AI_MESSAGE = `WITH g AS (
   UPDATE groups SET last_seq = last_seq + 1, last_event_at = now()
    WHERE id = $1 AND ($7::text IS NULL OR safety_profile = $7) AND EXISTS (SELECT 1 FROM messages WHERE id = $2 AND group_id = $1 AND status = 'STREAMING')
      AND ($12::uuid IS NULL OR EXISTS (SELECT 1 FROM model_responses WHERE id = $12 AND lease_owner = $13::uuid))
    RETURNING last_seq, safety_profile, safety_profile = ANY($6::text[]) AS blocked),
 m AS (
   UPDATE messages
      SET body = CASE WHEN g.blocked THEN '' ELSE $3 END,
          status = CASE WHEN g.blocked THEN 'BLOCKED' ELSE $4 END,
          status_reason = CASE WHEN g.blocked THEN 'CONTENT_BLOCKED' ELSE $5 END
     FROM g
    WHERE messages.id = $2
    RETURNING ${MESSAGE_COLUMNS}, g.safety_profile AS profile),
 e AS (
   INSERT INTO group_events (group_id, seq, type, message_id)
   SELECT $1, g.last_seq, 'AI_COMPLETED', $2 FROM g
   RETURNING seq::int AS "eventSeq", created_at AS "eventAt"),
 -- The reply settles its model response here, whatever its ending: one round trip, and a
 -- process that dies after it leaves no response STREAMING behind an ended message.
 -- A unit given back is never taken again: charged only stays true.
 r AS (
   UPDATE model_responses SET status = m.status, status_reason = m."statusReason", charged = charged AND $15,
          prompt_tokens = $9, completion_tokens = $10, latency_ms = $11, message_id = $2, context = coalesce($14, context), completed_at = now()
     FROM m WHERE model_responses.id = $8)
 SELECT m.*, e.*, EXISTS (SELECT 1 FROM reactions WHERE message_id = $2) AS "hasReactions" FROM m, e`;

/**
 * Ends the AI message, appends its AI_COMPLETED event and settles its model response. Null
 * when nothing was written:
 * `onlyUnder` is given and the group's profile is no longer that one, or the message is no
 * longer STREAMING, or (with `lease`) this instance no longer holds the reply: a process
 * whose heartbeat stalled past its lease, and whose reply was taken over, cannot end it.
 */
export async function finishAiMessage(
  db: DataSource,
  message: AiMessageRef,
  end: { status: AiMessageEnd; body: string; reason: string | null; response: SettledResponse },
  { verdict, onlyUnder }: FinishCheck = {},
  lease?: ReplyLease,
  tx?: EntityManager,
): Promise<{ status: AiMessageEnd; profile: SafetyProfileName; event: GroupEventType } | null> {
  const values = [
    message.groupId, message.id, end.body, end.status, end.reason, blockedUnderOf(verdict), onlyUnder ?? null,
    end.response.id, end.response.promptTokens, end.response.completionTokens, end.response.latencyMs,
    lease?.responseId ?? null, lease?.owner ?? null, end.response.context ?? null, end.response.charged,
  ];
  type Row = MessageEntity & { profile: SafetyProfileName; eventSeq: number; eventAt: Date; hasReactions: boolean };
  // In the caller's transaction (a blocked reply's case commits with it), or prepared on the pool.
  const [row]: Row[] = tx ? await tx.query(FINISH_AI_MESSAGE, values) : await preparedQuery<Row>(db, 'ai-finish-message', FINISH_AI_MESSAGE, values);
  if (!row) return null;
  const { profile, eventSeq, eventAt, hasReactions, ...stored } = row;
  // Members may have reacted while it streamed: only then is there more to read.
  const view = hasReactions ? (await loadMessageViews(tx ?? db.manager, [stored]))[0] : buildMessageView(stored, new Map());
  return { status: stored.status as AiMessageEnd, profile, event: eventView(GroupEventKind.AI_COMPLETED, eventSeq, eventAt, view) };
}

/** The profiles, other than the one it was judged under, under which a reply's scores block: the statement blocks it if the group's is one of them. */
export function blockedUnderOf(verdict: Verdict | undefined): SafetyProfileName[] {
  return verdict ? PROFILES.filter((p) => p !== verdict.profile && moderationDecision(verdict.scores, p).block) : [];
}

function eventView(type: GroupEventKind, seq: number, createdAt: Date, message: MessageType): GroupEventType {
  return buildEventView(
    { groupId: message.groupId, seq, type, messageId: message.id, subjectUserId: null, actorId: null, data: {}, createdAt },
    { users: new Map(), messages: new Map([[message.id, message]]) },
  );
}
