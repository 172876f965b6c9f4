/**
 * The AI's reply in a private conversation (docs/product.md §4–§5): the reply pipeline
 * (ai/reply/) with the conversation's side in PrivateReplyChat. It runs inside the
 * mutation that asked, and answers with the stored reply whatever the outcome.
 */
import type { ReplyPipeline } from '../ai/reply/reply-pipeline';
import { HandBack, ReplyNotHeld } from '../ai/reply/reply-chat';
import { payerOf } from '../domain/quota/settlement';
import type { UserEntity } from '../users/user.entity';
import { USER_COLUMNS } from '../users/user.columns';
import { CONVERSATION_MESSAGE_COLUMNS } from './conversation.policy';
import type { ConversationMessageType } from './conversation.type';
import { PrivateChatDeps, PrivateReplyChat } from './private-chat';

export interface PrivateReply {
  reply: ConversationMessageType;
  /** Set when the quota was exhausted: when a unit frees up again. */
  quotaResetsAt: Date | null;
}

/** Answers one message of a private conversation; never throws for a provider or quota problem. */
export class PrivateResponder {
  /** Replies under way in this process: shutdown ends those still streaming when its grace is over. */
  private readonly inflight = new Map<AbortController, Promise<unknown>>();

  constructor(private readonly d: PrivateChatDeps & { pipeline: ReplyPipeline }) {}

  async reply(user: UserEntity, trigger: ConversationMessageType): Promise<PrivateReply> {
    // Only the person's own message is answered, and they pay (a reply nobody pays for would escape every quota).
    if (payerOf({ chat: 'PRIVATE', role: trigger.role, ownerId: user.id }) !== user.id) throw new Error(`message ${trigger.id} is not a person's message to answer`);
    const controller = new AbortController();
    const chat = new PrivateReplyChat(this.d, user, trigger, controller.signal);
    const running = this.run(chat);
    this.inflight.set(controller, running);
    try {
      await running;
    } finally {
      this.inflight.delete(controller);
    }
    return { reply: chat.stored!, quotaResetsAt: chat.quotaResetsAt };
  }

  /**
   * Shutdown, once SHUTDOWN_GRACE_MS is over: a private reply cannot be handed to another
   * instance (the mutation waiting for it is on this one), so each still streaming is ended
   * here, FAILED INTERRUPTED with its unit given back, before the process lets go of its lease.
   */
  handBackAll(): void {
    for (const controller of this.inflight.keys()) controller.abort(new HandBack());
  }

  /** Resolves when every reply under way here has been stored. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  private async run(chat: PrivateReplyChat): Promise<void> {
    try {
      const result = await this.d.pipeline.run(chat);
      if (result.kind === 'handed_back') await this.d.pipeline.fail(chat, chat.reserved!, 'INTERRUPTED');
    } catch (err) {
      // Only our own storage can fail here: the person must not pay for an answer they never got.
      // A reply another instance took over (this process stalled past its lease) is settled there.
      if (chat.reserved && !(err instanceof ReplyNotHeld)) await this.d.quota.release(chat.reserved.responseId, 'INTERNAL', { owner: this.d.instanceId }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A reply whose process died while it was produced (taken over by jobs/reply-takeover.ts):
   * stored as the conversation's FAILED (INTERRUPTED) AI message, its unit given back. It
   * is not redone: the mutation that asked for it is gone with its process.
   */
  async interrupt(responseId: string, conversationId: string | null): Promise<void> {
    const [row]: Array<{ user: UserEntity | null; trigger: ConversationMessageType | null; model: string }> = await this.d.db.query(
      `SELECT (SELECT to_jsonb(u) FROM (SELECT ${USER_COLUMNS} FROM users WHERE id = r.charged_user_id) u) AS user,
              (SELECT to_jsonb(t) FROM (SELECT ${CONVERSATION_MESSAGE_COLUMNS} FROM conversation_messages WHERE id = r.trigger_message_id AND conversation_id = $2) t) AS trigger,
              r.model
         FROM model_responses r WHERE r.id = $1`,
      [responseId, conversationId],
    );
    if (!row?.user || !row.trigger) {
      await this.d.quota.release(responseId, 'INTERRUPTED', { owner: this.d.instanceId });
      return;
    }
    const chat = new PrivateReplyChat(this.d, row.user, row.trigger);
    await this.d.pipeline.fail(chat, { responseId, model: row.model, startedAt: Date.now() }, 'INTERRUPTED');
  }
}
