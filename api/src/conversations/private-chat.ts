/**
 * A private conversation's side of an AI reply (docs/product.md §4–§5; the steps are
 * ai/reply/): the one person in it pays, the prompt carries their personal memory, and
 * the reply is stored as the conversation's next message whatever the outcome, so the
 * mutation always has an answer to return. Nothing streams to a subscriber.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { QuotaService } from '../ai/quota.service';
import { Answer, Declined, OpenBlockedCase, ReplyChat, ReplyEnding, ReplyNotHeld, ReplyRef, Reserve, SettledResponse, settledResponse, StoredEnding, Usage } from '../ai/reply/reply-chat';
import type { Config } from '../config/env';
import { buildPrivatePrompt, ChatMessage, PromptHistoryEntry } from '../domain/prompt/build-prompt';
import { ReplyContext, replyContext } from '../domain/prompt/reply-context';
import type { QuotaStatus } from '../domain/quota/evaluate-quota';
import type { RouteDecision } from '../domain/router/select-model';
import { blocksAiInput } from '../domain/safety/moderation';
import { safetyProfile, SafetyProfileName } from '../domain/safety/safety-profile';
import type { MemoryService } from '../memory/memory.service';
import { ModerationResult, ModerationService, ModerationUnavailable } from '../moderation/moderation.service';
import type { SafetyCaseService } from '../moderation/safety-case.service';
import type { UserEntity } from '../users/user.entity';
import { CONVERSATION_MESSAGE_COLUMNS } from './conversation.policy';
import { ConversationMessageStatusEnum as Status, ConversationMessageType } from './conversation.type';

/** Messages read for the prompt; the token budget then keeps the newest that fit. */
const HISTORY_MESSAGES = 50;

export interface PrivateChatDeps {
  db: DataSource;
  config: Config;
  log: Logger;
  quota: QuotaService;
  moderation: ModerationService;
  memories: MemoryService;
  safetyCases: SafetyCaseService;
  /** This process's instance id: the lease owner of the replies it produces (jobs/instance-lease.ts). */
  instanceId: string;
}

export class PrivateReplyChat implements ReplyChat<ReplyRef> {
  readonly kind = 'PRIVATE';
  readonly groupId = null;
  readonly profile: SafetyProfileName;
  /** The AI's message once stored: what the mutation returns. */
  stored: ConversationMessageType | null = null;
  /** Set when the quota was exhausted: when a unit frees up again. */
  quotaResetsAt: Date | null = null;
  /** The reply reserved, until it is stored. */
  reserved: ReplyRef | null = null;
  private history: Array<PromptHistoryEntry & { id: string; seq: number }> = [];

  constructor(
    private readonly d: PrivateChatDeps,
    readonly payer: UserEntity,
    readonly trigger: Pick<ConversationMessageType, 'id' | 'conversationId' | 'seq' | 'body'>,
    /** Stops the stream when the shutdown grace is over (PrivateResponder.handBackAll). */
    readonly signal?: AbortSignal,
  ) {
    this.profile = safetyProfile([payer], d.config.unknownAgeIsMinor);
  }

  /** A private message has no moderation after delivery: flagged input goes to staff here, as an AI_INPUT case. */
  async inputVerdict(): Promise<ModerationResult | null> {
    let input: ModerationResult;
    try {
      input = await this.d.moderation.checkOrFallback(this.trigger.body, this.profile);
    } catch (err) {
      if (!(err instanceof ModerationUnavailable)) throw err;
      return null;
    }
    if (input.flagged) {
      await this.d.safetyCases
        .open({
          source: 'AI_INPUT',
          groupId: null,
          messageId: null,
          authorId: this.payer.id,
          categories: input.categories,
          severity: input.severity === 'none' ? 'low' : input.severity,
          teen: this.profile === 'TEEN',
          excerpt: this.trigger.body,
          details: { conversationId: this.trigger.conversationId, conversationMessageId: this.trigger.id, scores: input.scores, source: input.source, answered: !blocksAiInput(input) },
        })
        // The person still gets their reply; staff lose this case only if storing it fails.
        .catch((err) => this.d.log.error({ err }, 'opening a safety case for a private conversation failed'));
    }
    return input;
  }

  /** The AI always answers in its own conversation. */
  async answer(): Promise<Answer> {
    this.history = await this.readHistory();
    return {
      kind: 'reply',
      route: {
        text: this.trigger.body,
        contextChars: this.history.reduce((n, h) => n + h.body.length, 0),
        recentQuestionCount: this.history.slice(-6).filter((h) => h.kind === 'USER' && h.body.includes('?')).length,
      },
    };
  }

  async decline(why: Declined): Promise<void> {
    if (why.reason === 'MODERATION_UNAVAILABLE') this.stored = await this.append(Status.FAILED, 'MODERATION_UNAVAILABLE');
    else if (why.reason === 'INPUT_BLOCKED') this.stored = await this.append(Status.BLOCKED, 'INPUT_BLOCKED');
  }

  async reserve(route: RouteDecision, model: string): Promise<Reserve<ReplyRef>> {
    const reserved = await this.d.quota.reserve({
      user: this.payer,
      conversationId: this.trigger.conversationId,
      triggerMessageId: this.trigger.id,
      tier: route.tier,
      model,
      routeReason: route.reason,
    });
    if (!reserved.ok) return { kind: 'exhausted', status: reserved.status };
    const responseId = reserved.reservation.responseId;
    this.reserved = { responseId, model, startedAt: Date.now() };
    // The reply's lease: should this process die before it ends, another instance ends it
    // FAILED INTERRUPTED and gives the unit back (jobs/reply-takeover.ts).
    await this.d.db.query(`UPDATE model_responses SET lease_owner = $2 WHERE id = $1 AND status = 'STREAMING'`, [responseId, this.d.instanceId]);
    return { kind: 'reserved', reply: this.reserved };
  }

  async quotaExceeded(status: QuotaStatus): Promise<void> {
    this.quotaResetsAt = status.resetsAt;
    this.stored = await this.append(Status.FAILED, 'QUOTA_EXCEEDED');
  }

  async prompt(): Promise<{ messages: ChatMessage[]; context: ReplyContext }> {
    const messages = buildPrivatePrompt({
      aiName: this.d.config.aiName,
      memories: await this.d.memories.textsForPrompt(this.payer.id),
      history: this.history,
      tokenBudget: this.d.config.ai.contextTokens,
      profile: this.profile,
    });
    return { messages, context: replyContext(this.history, messages.length - 1, false) };
  }

  /** Appends the AI's message with its model response settled; a BLOCKED one commits with its AI_BLOCKED case. */
  async store(reply: ReplyRef, ending: ReplyEnding, usage: Usage, _judged: unknown, openCase: OpenBlockedCase): Promise<StoredEnding> {
    const completed = ending.status === 'COMPLETED';
    const append = (tx?: EntityManager) => this.append(ending.status as Status, completed ? null : ending.reason, completed ? ending.text : '', settledResponse(reply, ending, usage), tx);
    const stored = (message: ConversationMessageType): StoredEnding => ({ ending, messageId: message.id, profile: this.profile });
    this.stored =
      ending.status === 'BLOCKED'
        ? await this.d.db.transaction(async (tx) => {
            const message = await append(tx);
            await openCase(tx, stored(message));
            return message;
          })
        : await append();
    this.reserved = null;
    return stored(this.stored);
  }

  caseScope(): { groupId: null; messageId: null; details: Record<string, unknown> } {
    return { groupId: null, messageId: null, details: { conversationId: this.trigger.conversationId, triggerMessageId: this.trigger.id } };
  }

  /** The conversation up to the trigger, oldest first; AI replies without text are left out. */
  private async readHistory(): Promise<Array<PromptHistoryEntry & { id: string; seq: number }>> {
    const rows: Array<{ id: string; seq: number; role: 'USER' | 'AI'; body: string }> = await this.d.db.query(
      `SELECT id, seq::int AS seq, role, body FROM (
         SELECT id, role, body, seq FROM conversation_messages
          WHERE conversation_id = $1 AND seq <= $2 AND (role = 'USER' OR status = 'COMPLETED') AND body <> ''
          ORDER BY seq DESC LIMIT $3) recent
        ORDER BY seq`,
      [this.trigger.conversationId, this.trigger.seq, HISTORY_MESSAGES],
    );
    return rows.map((r) => ({ id: r.id, seq: r.seq, kind: r.role, authorUsername: null, body: r.body }));
  }

  /**
   * Appends the AI's message and settles its model response, in one statement: a process that
   * dies after it leaves nothing for a takeover to end a second time. A reply is stored only
   * by the instance holding its lease: one whose process stalled past the lease, and whose
   * reply another instance ended, stores nothing and fails.
   */
  private async append(status: Status, reason: string | null, body = '', response: SettledResponse | null = null, tx?: EntityManager): Promise<ConversationMessageType> {
    const [message]: ConversationMessageType[] = await (tx ?? this.d.db).query(
      `WITH c AS (
         UPDATE conversations SET last_seq = last_seq + 1, updated_at = now()
          WHERE id = $1 AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM model_responses WHERE id = $5 AND lease_owner = $6::uuid AND status = 'STREAMING'))
          RETURNING last_seq),
       m AS (
         INSERT INTO conversation_messages (conversation_id, seq, role, body, status, status_reason)
         SELECT $1, c.last_seq, 'AI', $2, $3, $4 FROM c
         RETURNING ${CONVERSATION_MESSAGE_COLUMNS}),
       -- A unit given back is never taken again: charged only stays true.
       r AS (
         UPDATE model_responses SET message_id = m.id, status = $3, status_reason = $4, charged = charged AND $7,
                prompt_tokens = $8, completion_tokens = $9, latency_ms = $10, context = coalesce($11, context), completed_at = now()
           FROM m WHERE model_responses.id = $5)
       SELECT * FROM m`,
      [
        this.trigger.conversationId, body, status, reason, response?.id ?? null, this.d.instanceId,
        response?.charged ?? false, response?.promptTokens ?? null, response?.completionTokens ?? null, response?.latencyMs ?? null, response?.context ?? null,
      ],
    );
    if (!message && response) throw new ReplyNotHeld(response.id);
    if (!message) throw new Error(`conversation ${this.trigger.conversationId} is gone`);
    return message;
  }
}
