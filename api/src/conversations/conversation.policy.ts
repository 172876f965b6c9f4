/**
 * Record-level access to private conversations: the owner only. Anyone else gets
 * NOT_FOUND exactly as for an id that does not exist.
 */
import type { EntityManager } from 'typeorm';
import { notFound } from '../errors';
import { isUuid } from '../groups/group.policy';
import type { ConversationType } from './conversation.type';

export const CONVERSATION_COLUMNS = `id, title, last_seq AS "lastSeq", created_at AS "createdAt", updated_at AS "updatedAt"`;

export const CONVERSATION_MESSAGE_COLUMNS = `id, conversation_id AS "conversationId", seq, role, body, status,
  status_reason AS "statusReason", created_at AS "createdAt"`;

/** The caller's conversation, or NOT_FOUND. With `lock`, the row is share-locked until commit (no message can land). */
export async function requireOwnConversation(db: EntityManager, conversationId: string, userId: string, lock = false): Promise<ConversationType> {
  if (!isUuid(conversationId)) throw notFound('Conversation');
  const rows: ConversationType[] = await db.query(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2${lock ? ' FOR SHARE' : ''}`,
    [conversationId, userId],
  );
  if (rows.length === 0) throw notFound('Conversation');
  return rows[0];
}
