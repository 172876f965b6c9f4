/**
 * The per-group event log. Appending takes the next sequence number by incrementing
 * `groups.last_seq`, which row-locks the group until commit: events of one group commit
 * in sequence order, so a subscriber that has seen N can trust every event below N is
 * readable. Nothing here publishes; services publish after their transaction commits.
 */
import type { EntityManager } from 'typeorm';
import { GroupEntity } from '../groups/group.entity';
import { toGroupView, GroupMemberType, GroupType, MemberRoleEnum } from '../groups/group.type';
import type { MessageEntity } from '../messages/message.entity';
import { loadMessageViews, loadUsers, UserLookup } from '../messages/message.views';
import type { MessageType } from '../messages/message.type';
import { GroupEventKind, GroupEventType } from './group-event.type';

export interface EventRow {
  groupId: string;
  seq: number;
  type: GroupEventKind;
  messageId: string | null;
  subjectUserId: string | null;
  actorId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export type AppendInput = Omit<EventRow, 'seq' | 'createdAt' | 'messageId' | 'subjectUserId' | 'actorId' | 'data'> &
  Partial<Pick<EventRow, 'messageId' | 'subjectUserId' | 'actorId' | 'data'>>;

const EVENT_COLUMNS = `group_id AS "groupId", seq::int AS seq, type, message_id AS "messageId",
  subject_user_id AS "subjectUserId", actor_id AS "actorId", data, created_at AS "createdAt"`;

/** Appends one event inside the caller's transaction and returns it with its seq. */
export async function appendEvent(db: EntityManager, input: AppendInput): Promise<EventRow> {
  const rows: EventRow[] = await db.query(
    `WITH s AS (UPDATE groups SET last_seq = last_seq + 1, last_event_at = now() WHERE id = $1 RETURNING last_seq)
     INSERT INTO group_events (group_id, seq, type, message_id, subject_user_id, actor_id, data)
     SELECT $1, s.last_seq, $2, $3, $4, $5, $6 FROM s
     RETURNING ${EVENT_COLUMNS}`,
    [input.groupId, input.type, input.messageId ?? null, input.subjectUserId ?? null, input.actorId ?? null, input.data ?? {}],
  );
  if (rows.length === 0) throw new Error(`group ${input.groupId} does not exist`);
  return rows[0];
}

export interface EventContext {
  users: UserLookup;
  messages?: ReadonlyMap<string, MessageType>;
  group?: GroupType | null;
}

/** Turns a stored event into the shape subscribers receive. Pure. */
export function buildEventView(row: EventRow, ctx: EventContext): GroupEventType {
  const d = row.data as { role?: MemberRoleEnum; joinedAt?: string; emoji?: string; byAi?: boolean };
  const subject = row.subjectUserId ? ctx.users.get(row.subjectUserId) ?? null : null;
  const view: GroupEventType = {
    seq: row.seq,
    groupId: row.groupId,
    type: row.type,
    occurredAt: row.createdAt,
    actor: row.actorId ? ctx.users.get(row.actorId) ?? null : null,
    message: row.messageId ? ctx.messages?.get(row.messageId) ?? null : null,
    member: null,
    group: null,
    reaction: null,
    typing: null,
  };
  switch (row.type) {
    case GroupEventKind.MEMBER_JOINED:
    case GroupEventKind.MEMBER_LEFT:
    case GroupEventKind.MEMBER_REMOVED:
      if (subject) view.member = { user: subject, role: d.role ?? MemberRoleEnum.MEMBER, joinedAt: d.joinedAt ?? row.createdAt } satisfies GroupMemberType;
      view.group = ctx.group ?? null;
      break;
    case GroupEventKind.GROUP_UPDATED:
    case GroupEventKind.GROUP_CLOSED:
      view.group = ctx.group ?? null;
      break;
    case GroupEventKind.REACTION_ADDED:
    case GroupEventKind.REACTION_REMOVED:
      view.reaction = {
        messageId: row.messageId!,
        emoji: d.emoji ?? '',
        user: subject,
        byAi: d.byAi === true,
        createdAt: row.createdAt,
      };
      break;
    default:
      break;
  }
  return view;
}

/** Reads events after `afterSeq`, hydrated with the current state of their messages. */
export async function readEvents(db: EntityManager, groupId: string, afterSeq: number, limit: number): Promise<GroupEventType[]> {
  const rows: EventRow[] = await db.query(
    `SELECT ${EVENT_COLUMNS} FROM group_events WHERE group_events.group_id = $1 AND group_events.seq > $2 ORDER BY group_events.seq LIMIT $3`,
    [groupId, afterSeq, limit],
  );
  if (rows.length === 0) return [];
  const messageIds = [...new Set(rows.flatMap((r) => (r.messageId ? [r.messageId] : [])))];
  const messageRows: MessageEntity[] =
    messageIds.length === 0
      ? []
      : await db.query(
          `SELECT id, group_id AS "groupId", seq, kind, author_id AS "authorId", body, status, status_reason AS "statusReason",
                  reply_to_id AS "replyToId", client_message_id AS "clientMessageId", mention_user_ids AS "mentionUserIds",
                  mentions_ai AS "mentionsAi", edited_at AS "editedAt", deleted_at AS "deletedAt", created_at AS "createdAt"
             FROM messages WHERE id = ANY($1::uuid[])`,
          [messageIds],
        );
  const users = await loadUsers(db, rows.flatMap((r) => [r.actorId, r.subjectUserId]));
  const messages = new Map((await loadMessageViews(db, messageRows, users)).map((m) => [m.id, m]));
  const needsGroup = rows.some((r) => r.type.startsWith('MEMBER_') || r.type.startsWith('GROUP_'));
  const groupRow = needsGroup ? await db.findOneBy(GroupEntity, { id: groupId }) : null;
  const group = groupRow ? toGroupView(groupRow) : null;
  return rows.map((r) => buildEventView(r, { users, messages, group }));
}
