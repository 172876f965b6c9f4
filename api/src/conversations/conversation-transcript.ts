/**
 * What a new group copies from a private conversation (docs/product.md §2): its messages and
 * nothing else. Personal memory is never part of it; this reads conversation_messages only.
 */
import type { EntityManager } from 'typeorm';
import { requireOwnConversation } from './conversation.policy';

export interface TranscriptEntry {
  role: 'USER' | 'AI';
  body: string;
  createdAt: Date;
}

/**
 * The owner's conversation as it stands, oldest first, or NOT_FOUND for anyone else.
 * AI replies that failed or were blocked carry no text and are left out. The
 * conversation row stays share-locked until the caller's transaction ends, so no
 * message lands halfway through the copy.
 */
export async function transcriptForCopy(tx: EntityManager, conversationId: string, ownerId: string): Promise<TranscriptEntry[]> {
  await requireOwnConversation(tx, conversationId, ownerId, true);
  return tx.query(
    `SELECT role, body, created_at AS "createdAt" FROM conversation_messages
      WHERE conversation_id = $1 AND (role = 'USER' OR status = 'COMPLETED') AND body <> ''
      ORDER BY seq`,
    [conversationId],
  );
}
