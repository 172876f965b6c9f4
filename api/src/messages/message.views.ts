/**
 * Builds the `Message` shape from stored rows. The live path (a message just written)
 * and the read path (history, replay) both end in `buildMessageView`.
 */
import type { EntityManager } from 'typeorm';
import { toUserView, UserType } from '../users/user.type';
import type { UserEntity } from '../users/user.entity';
import type { MessageEntity } from './message.entity';
import { MessageKindEnum, MessageStatusEnum, MessageType, ReactionType } from './message.type';

export interface ReactionRow {
  messageId: string;
  userId: string | null;
  emoji: string;
  createdAt: Date;
}

export type UserLookup = ReadonlyMap<string, UserType>;

export function buildMessageView(row: MessageEntity, users: UserLookup, reactions: readonly ReactionRow[] = []): MessageType {
  const deleted = row.status === 'DELETED';
  return {
    id: row.id,
    groupId: row.groupId,
    seq: Number(row.seq),
    kind: row.kind as MessageKindEnum,
    author: row.authorId ? users.get(row.authorId) ?? null : null,
    // Tombstones and hidden messages keep no readable text in any view.
    body: deleted || row.status === 'HIDDEN' ? '' : row.body,
    status: row.status as MessageStatusEnum,
    statusReason: row.statusReason,
    replyToId: row.replyToId,
    clientMessageId: row.clientMessageId,
    mentions: deleted ? [] : row.mentionUserIds.flatMap((id) => users.get(id) ?? []),
    mentionsAi: row.mentionsAi,
    reactions: reactions.map((r) => buildReactionView(r, users)),
    editedAt: row.editedAt,
    deletedAt: row.deletedAt,
    createdAt: row.createdAt,
  };
}

export function buildReactionView(r: ReactionRow, users: UserLookup): ReactionType {
  return { emoji: r.emoji, user: r.userId ? users.get(r.userId) ?? null : null, byAi: r.userId === null, createdAt: r.createdAt };
}

export async function loadUsers(db: EntityManager, ids: Iterable<string | null | undefined>): Promise<Map<string, UserType>> {
  const unique = [...new Set([...ids].filter((id): id is string => !!id))];
  const map = new Map<string, UserType>();
  if (unique.length === 0) return map;
  const rows: Pick<UserEntity, 'id' | 'username' | 'displayName' | 'photoUrl'>[] = await db.query(
    `SELECT id, username, display_name AS "displayName", photo_url AS "photoUrl" FROM users WHERE id = ANY($1::uuid[])`,
    [unique],
  );
  for (const r of rows) map.set(r.id, toUserView(r));
  return map;
}

export async function loadReactions(db: EntityManager, messageIds: string[]): Promise<Map<string, ReactionRow[]>> {
  const map = new Map<string, ReactionRow[]>();
  if (messageIds.length === 0) return map;
  const rows: ReactionRow[] = await db.query(
    `SELECT message_id AS "messageId", user_id AS "userId", emoji, created_at AS "createdAt"
       FROM reactions WHERE message_id = ANY($1::uuid[]) ORDER BY created_at, emoji`,
    [messageIds],
  );
  for (const r of rows) {
    const list = map.get(r.messageId);
    if (list) list.push(r);
    else map.set(r.messageId, [r]);
  }
  return map;
}

/** Hydrates many stored messages at once: one query for users, one for reactions. */
export async function loadMessageViews(db: EntityManager, rows: MessageEntity[], knownUsers?: Map<string, UserType>): Promise<MessageType[]> {
  if (rows.length === 0) return [];
  return buildMessageViews(db, rows, await loadReactions(db, rows.map((r) => r.id)), knownUsers);
}

/** Hydrates many stored messages whose reactions are known: one query for the users they name. */
export async function buildMessageViews(db: EntityManager, rows: MessageEntity[], reactions: ReadonlyMap<string, ReactionRow[]>, knownUsers?: Map<string, UserType>): Promise<MessageType[]> {
  if (rows.length === 0) return [];
  const userIds = rows.flatMap((r) => [r.authorId, ...r.mentionUserIds]);
  for (const list of reactions.values()) for (const r of list) userIds.push(r.userId);
  const users = await loadUsers(db, knownUsers ? userIds.filter((id) => id && !knownUsers.has(id)) : userIds);
  if (knownUsers) for (const [k, v] of knownUsers) users.set(k, v);
  return rows.map((r) => buildMessageView(r, users, reactions.get(r.id) ?? []));
}
