/**
 * The AI's reply in a private conversation (PRODUCT.md §4–§5): routed by plan, charged
 * to the one person in it, prompted with their personal memory, moderated, and stored
 * as the conversation's next message whatever the outcome.
 */
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { ModelProvider, ProviderNotConfigured } from '../ai/provider';
import type { QuotaService } from '../ai/quota.service';
import { ReplyTimeout } from '../ai/reply-clock';
import type { Config } from '../config/env';
import { buildPrivatePrompt, PromptHistoryEntry } from '../domain/prompt/build-prompt';
import { selectModel } from '../domain/router/select-model';
import { safetyProfile } from '../domain/safety/safety-profile';
import type { MemoryService } from '../memory/memory.service';
import type { ModerationResult, ModerationService } from '../moderation/moderation.service';
import type { OpenCaseInput, SafetyCaseService } from '../moderation/safety-case.service';
import { blocksAiInput } from '../domain/safety/moderation';
import type { UserEntity } from '../users/user.entity';
import { CONVERSATION_MESSAGE_COLUMNS } from './conversation.policy';
import { ConversationMessageStatusEnum as Status, ConversationMessageType } from './conversation.type';

/** Messages read for the prompt; the token budget then keeps the newest that fit. */
const HISTORY_MESSAGES = 50;

export interface PrivateResponderDeps {
  db: DataSource;
  config: Config;
  log: Logger;
  provider: ModelProvider;
  quota: QuotaService;
  moderation: ModerationService;
  memories: MemoryService;
  safetyCases: SafetyCaseService;
  /** This process's instance id: the lease owner of the replies it produces (jobs/instance-lease.ts). */
  instanceId: string;
}

export interface PrivateReply {
  reply: ConversationMessageType;
  /** Set when the quota was exhausted: when a unit frees up again. */
  quotaResetsAt: Date | null;
}

type Outcome =
  | { status: Status.COMPLETED; text: string }
  | { status: Status.FAILED | Status.BLOCKED; reason: string };

/** Answers one message of a private conversation; never throws for a provider or quota problem. */
export class PrivateResponder {
  constructor(private readonly deps: PrivateResponderDeps) {}

  async reply(user: UserEntity, trigger: ConversationMessageType): Promise<PrivateReply> {
    const { config, quota, moderation } = this.deps;
    // The AI's input is moderated too: a message it must not answer costs nothing.
    const profile = safetyProfile([user], config.unknownAgeIsMinor);
    const input = await moderation.checkOrFallback(trigger.body, profile).catch(() => null);
    if (input?.flagged) {
      await this.openCase({
        source: 'AI_INPUT',
        authorId: user.id,
        categories: input.categories,
        severity: input.severity === 'none' ? 'low' : input.severity,
        teen: profile === 'TEEN',
        excerpt: trigger.body,
        details: { conversationId: trigger.conversationId, conversationMessageId: trigger.id, scores: input.scores, source: input.source, answered: !blocksAiInput(input) },
      });
    }
    if (input === null || blocksAiInput(input)) {
      const reason = input === null ? 'MODERATION_UNAVAILABLE' : 'INPUT_BLOCKED';
      return { reply: await this.store(trigger.conversationId, null, { status: input === null ? Status.FAILED : Status.BLOCKED, reason }), quotaResetsAt: null };
    }
    const history = await this.history(trigger);
    const route = selectModel(
      {
        text: trigger.body,
        contextChars: history.reduce((n, h) => n + h.body.length, 0),
        recentQuestionCount: history.slice(-6).filter((h) => h.kind === 'USER' && h.body.includes('?')).length,
      },
      user.plan,
    );
    const model = config.ai.models[route.tier];
    const reserved = await quota.reserve({
      user,
      conversationId: trigger.conversationId,
      triggerMessageId: trigger.id,
      tier: route.tier,
      model,
      routeReason: route.reason,
    });
    if (!reserved.ok) {
      const reply = await this.store(trigger.conversationId, null, { status: Status.FAILED, reason: 'QUOTA_EXCEEDED' });
      return { reply, quotaResetsAt: reserved.status.resetsAt };
    }
    const responseId = reserved.reservation.responseId;
    try {
      // The reply's lease: should this process die before it ends, another instance ends it
      // FAILED INTERRUPTED and gives the unit back (jobs/reply-takeover.ts). Until then a
      // reply without an owner is taken over only past the deadline plus the lease.
      await this.deps.db.query(`UPDATE model_responses SET lease_owner = $2 WHERE id = $1 AND status = 'STREAMING'`, [responseId, this.deps.instanceId]);
      const outcome = await this.generate(user, trigger, history, model, responseId);
      return { reply: await this.store(trigger.conversationId, responseId, outcome), quotaResetsAt: null };
    } catch (err) {
      // Only our own storage can fail here: the person must not pay for an answer they never got.
      await quota.release(responseId, 'INTERNAL').catch(() => undefined);
      throw err;
    }
  }

  /** Calls the model and settles the reservation: finished (charged) or released (free). */
  private async generate(user: UserEntity, trigger: ConversationMessageType, history: PromptHistoryEntry[], model: string, responseId: string): Promise<Outcome> {
    const { config, provider, quota, moderation, memories, log } = this.deps;
    const profile = safetyProfile([user], config.unknownAgeIsMinor);
    const messages = buildPrivatePrompt({
      aiName: config.aiName,
      memories: await memories.textsForPrompt(user.id),
      history,
      tokenBudget: config.ai.contextTokens,
      profile,
    });
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const fail = async (reason: string): Promise<Outcome> => {
      await quota.release(responseId, reason, elapsed());
      return { status: Status.FAILED, reason };
    };

    let completion;
    try {
      completion = await provider.stream({ model, messages });
    } catch (err) {
      if (err instanceof ProviderNotConfigured) return fail('PROVIDER_NOT_CONFIGURED');
      const reason = err instanceof ReplyTimeout ? 'TIMEOUT' : 'PROVIDER_ERROR';
      log.warn({ err, responseId, model, reason }, 'private reply failed at the provider');
      return fail(reason);
    }
    if (completion.text.trim() === '') return fail('EMPTY_RESPONSE');

    let verdict;
    try {
      verdict = await moderation.checkOrFallback(completion.text, profile);
    } catch (err) {
      // TEEN conversations fail closed when moderation is unavailable; no answer, no charge.
      log.warn({ err, responseId }, 'moderation unavailable for a private reply');
      return fail('MODERATION_UNAVAILABLE');
    }
    const usage = { promptTokens: completion.promptTokens, completionTokens: completion.completionTokens, latencyMs: elapsed() };
    if (verdict.block) {
      await quota.finish(responseId, { status: 'BLOCKED', reason: 'CONTENT_BLOCKED', ...usage });
      await this.openCase(blockedOutputCase(verdict, profile === 'TEEN', completion.text, { conversationId: trigger.conversationId, triggerMessageId: trigger.id, chargedUserId: user.id }));
      return { status: Status.BLOCKED, reason: 'CONTENT_BLOCKED' };
    }
    await quota.finish(responseId, { status: 'COMPLETED', ...usage });
    return { status: Status.COMPLETED, text: completion.text };
  }

  /**
   * Flagged content in a private conversation goes to staff like a group's: the case holds
   * the text and the conversation's id (a private conversation has no group or group
   * message). A case that cannot be stored is logged; the person still gets their reply.
   */
  private async openCase(input: Omit<OpenCaseInput, 'groupId' | 'messageId'>): Promise<void> {
    await this.deps.safetyCases
      .open({ ...input, groupId: null, messageId: null })
      .catch((err) => this.deps.log.error({ err, source: input.source }, 'opening a safety case for a private conversation failed'));
  }

  /** The conversation up to the trigger, oldest first; AI replies without text are left out. */
  private async history(trigger: ConversationMessageType): Promise<PromptHistoryEntry[]> {
    const rows: Array<{ role: 'USER' | 'AI'; body: string }> = await this.deps.db.query(
      `SELECT role, body FROM (
         SELECT role, body, seq FROM conversation_messages
          WHERE conversation_id = $1 AND seq <= $2 AND (role = 'USER' OR status = 'COMPLETED') AND body <> ''
          ORDER BY seq DESC LIMIT $3) recent
        ORDER BY seq`,
      [trigger.conversationId, trigger.seq, HISTORY_MESSAGES],
    );
    return rows.map((r) => ({ kind: r.role, authorUsername: null, body: r.body }));
  }

  /**
   * A reply whose process died while it was produced (taken over by jobs/reply-takeover.ts):
   * its unit is given back and it is stored as the conversation's FAILED (INTERRUPTED) AI
   * message. It is not redone: the mutation that asked for it is gone with its process.
   */
  async interrupt(responseId: string, conversationId: string | null): Promise<void> {
    await this.deps.quota.release(responseId, 'INTERRUPTED');
    if (conversationId) await this.store(conversationId, responseId, { status: Status.FAILED, reason: 'INTERRUPTED' });
  }

  /** Appends the AI's message and links it to its model response, in one transaction. */
  private store(conversationId: string, responseId: string | null, outcome: Outcome): Promise<ConversationMessageType> {
    const body = outcome.status === Status.COMPLETED ? outcome.text : '';
    const reason = outcome.status === Status.COMPLETED ? null : outcome.reason;
    return this.deps.db.transaction(async (tx) => {
      const [message]: ConversationMessageType[] = await tx.query(
        `WITH c AS (UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq)
         INSERT INTO conversation_messages (conversation_id, seq, role, body, status, status_reason)
         SELECT $1, c.last_seq, 'AI', $2, $3, $4 FROM c
         RETURNING ${CONVERSATION_MESSAGE_COLUMNS}`,
        [conversationId, body, outcome.status, reason],
      );
      if (responseId) await tx.query(`UPDATE model_responses SET message_id = $2 WHERE id = $1`, [responseId, message.id]);
      return message;
    });
  }
}

function blockedOutputCase(verdict: ModerationResult, teen: boolean, text: string, details: Record<string, unknown>): Omit<OpenCaseInput, 'groupId' | 'messageId'> {
  return {
    source: 'AI_BLOCKED',
    authorId: null,
    categories: verdict.categories,
    severity: verdict.severity === 'none' ? 'high' : verdict.severity,
    teen,
    excerpt: text,
    details: { ...details, reason: 'blocked', scores: verdict.scores, source: verdict.source },
  };
}
