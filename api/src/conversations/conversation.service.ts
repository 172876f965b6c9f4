/**
 * Private conversations (docs/product.md §5): one person and the AI. Sending stores the
 * person's message (and the fact it asks to remember) in one transaction, then the
 * AI's reply as the next message. Only the owner can see or use a conversation.
 */
import type { DataSource } from 'typeorm';
import { assertCanWrite } from '../users/user.policy';
import type { Config } from '../config/env';
import { extractRememberRequest } from '../domain/memory/remember';
import { badInput, notFound } from '../errors';
import { validMessageBody } from '../messages/message-sender';
import { isUuid } from '../groups/group.policy';
import { MemoryService, validMemoryText } from '../memory/memory.service';
import { MemorySourceEnum, MemoryType } from '../memory/memory.type';
import type { UserEntity } from '../users/user.entity';
import { CONVERSATION_COLUMNS, CONVERSATION_MESSAGE_COLUMNS, requireOwnConversation } from './conversation.policy';
import { ConversationMessageType, ConversationType, PrivateExchangeType } from './conversation.type';
import type { PrivateResponder } from './private-responder';

export const MAX_TITLE_LENGTH = 100;
/** A conversation without a title takes this much of its first message. */
const AUTO_TITLE_LENGTH = 60;

/** Owner-only private conversations: list, start, read, and send with the AI's reply. */
export class ConversationService {
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly memories: MemoryService,
    private readonly responder: PrivateResponder,
  ) {}

  /** The caller's conversations, most recently active first. */
  list(user: UserEntity, first: number): Promise<ConversationType[]> {
    return this.db.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2`,
      [user.id, first],
    );
  }

  get(user: UserEntity, conversationId: string): Promise<ConversationType> {
    return requireOwnConversation(this.db.manager, conversationId, user.id);
  }

  async start(user: UserEntity, title: string | null | undefined): Promise<ConversationType> {
    assertCanWrite(user);
    const clean = oneLine(title ?? '');
    if ([...clean].length > MAX_TITLE_LENGTH) throw badInput(`title must be at most ${MAX_TITLE_LENGTH} characters`, 'title');
    const [row]: ConversationType[] = await this.db.query(
      `INSERT INTO conversations (user_id, title) VALUES ($1, $2) RETURNING ${CONVERSATION_COLUMNS}`,
      [user.id, clean],
    );
    return row;
  }

  /**
   * The newest `first` messages of each conversation (before seq `before` when given),
   * oldest first. Callers have already checked ownership of every id.
   */
  async messagesOf(conversationIds: readonly string[], first: number, before: number | null): Promise<Map<string, ConversationMessageType[]>> {
    // Ordered by the column, not the output's `seq::int`, and bounded only when a bound is
    // given: both keep the lateral read an index range on (conversation_id, seq).
    const rows: ConversationMessageType[] = await this.db.query(
      `SELECT m.* FROM unnest($1::uuid[]) AS c(id)
         CROSS JOIN LATERAL (
           SELECT ${CONVERSATION_MESSAGE_COLUMNS} FROM conversation_messages
            WHERE conversation_id = c.id${before === null ? '' : ' AND conversation_messages.seq < $3'}
            ORDER BY conversation_messages.seq DESC LIMIT $2) m
        ORDER BY m."conversationId", m.seq`,
      before === null ? [conversationIds, first] : [conversationIds, first, before],
    );
    const byConversation = new Map<string, ConversationMessageType[]>(conversationIds.map((id) => [id, []]));
    for (const r of rows) byConversation.get(r.conversationId)?.push(r);
    return byConversation;
  }

  /**
   * Stores the person's message, saves what it asks to remember, and gets the AI's
   * reply. A quota or provider problem does not fail the call: the reply says FAILED.
   */
  async send(user: UserEntity, conversationId: string, rawBody: string): Promise<PrivateExchangeType> {
    assertCanWrite(user);
    const body = this.validBody(rawBody);
    if (!isUuid(conversationId)) throw notFound('Conversation');
    const fact = rememberedFact(body);
    const { message, memorySaved, memoryFull } = await this.db.transaction(async (tx) => {
      const [message]: ConversationMessageType[] = await tx.query(
        `WITH c AS (
           UPDATE conversations SET last_seq = last_seq + 1, updated_at = now(), title = CASE WHEN title = '' THEN $3 ELSE title END
            WHERE id = $1 AND user_id = $2 RETURNING last_seq)
         INSERT INTO conversation_messages (conversation_id, seq, role, body, status)
         SELECT $1, c.last_seq, 'USER', $4, 'SENT' FROM c
         RETURNING ${CONVERSATION_MESSAGE_COLUMNS}`,
        [conversationId, user.id, autoTitle(body), body],
      );
      if (!message) throw notFound('Conversation');
      let memorySaved: MemoryType | null = null;
      let memoryFull = false;
      if (fact) {
        const saved = await this.memories.save(tx, user.id, { text: fact, source: MemorySourceEnum.CONVERSATION, conversationId });
        if (saved.ok) memorySaved = saved.memory;
        else memoryFull = true;
      }
      return { message, memorySaved, memoryFull };
    });
    const { reply, quotaResetsAt } = await this.responder.reply(user, message);
    return { message, reply, memorySaved, memoryFull, quotaResetsAt };
  }

  /** The same rules as a group message's body. */
  private validBody(body: string): string {
    return validMessageBody(body, this.config.maxMessageLength);
  }
}

/** The fact a message asks to remember, if it is one memory can hold. */
function rememberedFact(body: string): string | null {
  const fact = extractRememberRequest(body);
  if (!fact) return null;
  try {
    return validMemoryText(fact);
  } catch {
    return null;
  }
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
}

function autoTitle(body: string): string {
  const chars = [...oneLine(body)];
  return chars.length <= AUTO_TITLE_LENGTH ? chars.join('') : `${chars.slice(0, AUTO_TITLE_LENGTH - 1).join('').trimEnd()}…`;
}
