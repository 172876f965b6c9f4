/**
 * A group started from a private conversation begins with a copy of its messages
 * (docs/product.md §2): the person's messages as theirs, the AI's as the AI's, each with its
 * own seq and MESSAGE_CREATED event, in the original order. The conversation itself is
 * only read. Personal memory is not part of a conversation and is never touched here.
 */
import type { EntityManager } from 'typeorm';
import type { TranscriptEntry } from '../conversations/conversation-transcript';
import type { EventRow } from '../events/event-log';
import { GroupEventKind } from '../events/group-event.type';

/** Appends the copies inside the caller's group-creating transaction; returns their events. */
export async function copyTranscriptIntoGroup(tx: EntityManager, groupId: string, ownerId: string, transcript: readonly TranscriptEntry[]): Promise<EventRow[]> {
  if (transcript.length === 0) return [];
  const rows: EventRow[] = await tx.query(
    `WITH s AS (
       UPDATE groups SET last_seq = last_seq + $6, last_event_at = now() WHERE id = $1 RETURNING last_seq - $6 AS base),
     src AS (
       SELECT * FROM unnest($3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS t(kind, body, created_at, ord)),
     m AS (
       INSERT INTO messages (group_id, seq, kind, author_id, body, status, created_at)
       SELECT $1, s.base + src.ord, src.kind, CASE WHEN src.kind = 'USER' THEN $2::uuid END, src.body,
              CASE WHEN src.kind = 'USER' THEN 'SENT' ELSE 'COMPLETED' END, src.created_at
         FROM s, src
       RETURNING id, seq, author_id)
     INSERT INTO group_events (group_id, seq, type, message_id, actor_id)
     SELECT $1, m.seq, $7, m.id, m.author_id FROM m
     RETURNING group_id AS "groupId", seq::int AS seq, type, message_id AS "messageId", subject_user_id AS "subjectUserId",
               actor_id AS "actorId", data, created_at AS "createdAt"`,
    [
      groupId,
      ownerId,
      transcript.map((t) => (t.role === 'AI' ? 'AI' : 'USER')),
      transcript.map((t) => t.body),
      transcript.map((t) => t.createdAt),
      transcript.length,
      GroupEventKind.MESSAGE_CREATED,
    ],
  );
  return rows.sort((a, b) => a.seq - b.seq);
}
