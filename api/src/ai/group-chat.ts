/**
 * A group's side of an AI reply (docs/product.md §4, §6; the steps are ai/reply/): the AI
 * answers when mentioned or, in AUTO mode, when the conversation asks for it; the reply
 * appears at once as a STREAMING message of the group, its text goes out as AI_DELTA
 * events, and it ends COMPLETED, FAILED or BLOCKED with AI_COMPLETED. Group replies never
 * read or write personal memory: nothing here touches the memory store.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from '../config/env';
import { buildGroupPrompt, buildRespondCheckPrompt, ChatMessage, PromptHistoryEntry } from '../domain/prompt/build-prompt';
import { ReplyContext, replyContext } from '../domain/prompt/reply-context';
import type { QuotaStatus } from '../domain/quota/evaluate-quota';
import { aiReactionFor } from '../domain/respond-policy/reaction';
import { RecentMessage, shouldRespond } from '../domain/respond-policy/should-respond';
import type { RouteDecision } from '../domain/router/select-model';
import { moderationDecision } from '../domain/safety/moderation';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import { unitOfWork } from '../db/unit-of-work';
import type { EventPublisher } from '../events/event-publisher';
import { ephemeralEvent, GroupEventKind } from '../events/group-event.type';
import type { AfterDeliveryModeration } from '../moderation/after-delivery.processor';
import type { ModerationResult } from '../moderation/moderation.service';
import type { RolloutService } from '../rollout/rollout.service';
import type { UserEntity } from '../users/user.entity';
import { AiMessageRef, blockedUnderOf, finishAiMessage, startAiReply } from './ai-message.store';
import { BackgroundLane } from '../common/background-lane';
import { DeltaBatcher } from './delta-batcher';
import type { GroupState, ReplyTrigger } from './group-context';
import type { ModelProvider } from './provider';
import type { QuotaService } from './quota.service';
import { Answer, Declined, HandBack, OpenBlockedCase, ReplyChat, ReplyEnding, ReplyNotHeld, ReplyRef, Reserve, settledResponse, StoredEnding, Usage } from './reply/reply-chat';

/** A group reply: its model response and its AI message. */
export interface GroupReply extends ReplyRef {
  message: AiMessageRef;
}

export interface GroupChatDeps {
  db: DataSource;
  config: Config;
  log: Logger;
  provider: ModelProvider;
  quota: QuotaService;
  rollout: RolloutService;
  publisher: EventPublisher;
  afterDelivery: AfterDeliveryModeration;
  lane: BackgroundLane;
  /** This process's instance id: the lease owner of the replies it streams. */
  instanceId: string;
  /** Cancels the stream when the group is closed, and reports joins; returns how to stop watching. */
  watch(groupId: string, controller: AbortController, onJoin: () => void): Promise<() => void>;
  /** Shutdown has begun handing replies back: none is started. */
  handingBack(): boolean;
}

export class GroupReplyChat implements ReplyChat<GroupReply> {
  readonly kind = 'GROUP';
  readonly groupId: string;
  readonly controller = new AbortController();
  /** In TEEN groups, and from the moment anyone joins, text is not shown before it is moderated. */
  private liveDeltas: boolean;
  private batcher: DeltaBatcher | null = null;
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly d: GroupChatDeps,
    readonly trigger: ReplyTrigger,
    readonly payer: UserEntity,
    private readonly group: GroupState,
    /** Told once the reply is reserved (the job that runs it may then be completed). */
    private readonly onReserved: () => void = () => undefined,
  ) {
    this.groupId = trigger.groupId;
    this.liveDeltas = group.safetyProfile === 'STANDARD';
  }

  get profile(): SafetyProfileName {
    return this.group.safetyProfile;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The verdict of moderation after delivery, which also flags the message: scored once per process. */
  inputVerdict(): Promise<ModerationResult | null> {
    return this.d.afterDelivery.review(this.trigger.id, { body: this.trigger.body });
  }

  async answer(): Promise<Answer> {
    const { trigger, group, payer } = this;
    // Outside the group_chats_ai rollout the author gets no answer, reaction or classifier call, and pays nothing.
    if (!(await this.d.rollout.allows(payer, 'group_chats_ai', { version: group.rolloutVersion }))) return { kind: 'none' };
    const recent: RecentMessage[] = group.history
      .filter((m) => m.id !== trigger.id)
      .slice(-10)
      .map((m) => ({ kind: m.kind, authorId: m.authorId, body: m.body, mentionsAi: m.mentionsAi }));
    const decision = shouldRespond(
      { body: trigger.body, mentionsAi: trigger.mentionsAi, authorId: payer.id, mentionUsernames: trigger.mentionUsernames },
      recent,
      group.aiMode,
      { aiName: this.d.config.aiName, memberNames: group.members.flatMap((m) => [m.displayName, m.username]) },
    );
    const respond = decision.respond || (group.aiMode === 'AUTO' && decision.reason === 'not_a_question' && this.d.config.ai.classifier && (await this.classify()));
    if (!respond) return { kind: 'none' };
    const emoji = aiReactionFor(trigger.body);
    if (emoji && trigger.mentionsAi) return { kind: 'react', emoji };
    return { kind: 'reply', route: { text: trigger.body, contextChars: group.history.map((m) => m.body).join('\n').length } };
  }

  async decline(why: Declined): Promise<void> {
    if (why.reason === 'REACTED') await this.react(why.emoji);
  }

  /** The author's unit and the STREAMING message, in one statement (start_ai_reply). */
  async reserve(route: RouteDecision, model: string): Promise<Reserve<GroupReply>> {
    // Watch the group before the message exists, so a close in between is not missed.
    await this.watch();
    if (this.d.handingBack()) throw new HandBack();
    const start = await startAiReply(this.d.db, {
      user: this.payer,
      limit: this.d.quota.limitFor(this.payer.plan),
      groupId: this.groupId,
      triggerMessageId: this.trigger.id,
      tier: route.tier,
      model,
      routeReason: route.reason,
      leaseOwner: this.d.instanceId,
    });
    if (!start.started) return 'status' in start ? { kind: 'exhausted', status: start.status } : { kind: 'skipped' };
    this.d.publisher.publish([start.event]);
    this.onReserved();
    return { kind: 'reserved', reply: { responseId: start.responseId, model, startedAt: Date.now(), message: start.message } };
  }

  /** Only the person whose quota ran out is told, with the time it resets. */
  async quotaExceeded(status: QuotaStatus): Promise<void> {
    const when = status.resetsAt ? ` It resets at ${status.resetsAt.toISOString()}.` : '';
    this.d.publisher.publish([
      ephemeralEvent(this.groupId, GroupEventKind.QUOTA_NOTICE, {
        notice: { code: 'QUOTA_EXCEEDED', message: `You have used up your AI responses for now.${when}`, resetsAt: status.resetsAt, messageId: this.trigger.id },
        visibleTo: this.payer.id,
      }),
    ]);
  }

  async prompt(): Promise<{ messages: ChatMessage[]; context: ReplyContext }> {
    // Building a prompt steps aside for I/O: the tokens of replies already streaming go out first.
    await this.d.lane.turn();
    const { group } = this;
    const messages = buildGroupPrompt({
      aiName: this.d.config.aiName,
      profile: group.safetyProfile,
      customInstructions: group.customInstructions,
      members: group.members.map((m) => ({ displayName: m.displayName, username: m.username })),
      history: group.history.map(promptEntry),
      tokenBudget: this.d.config.ai.contextTokens,
    });
    // After the system message come the newest history entries that fit the budget.
    return { messages, context: replyContext(group.history, messages.length - 1, group.customInstructions.trim() !== '') };
  }

  onDelta(reply: GroupReply, text: string): void {
    this.batcher ??= new DeltaBatcher(this.d.config.ai.deltaFlushMs, this.d.config.ai.deltaFlushChars, (chunk, offset) => {
      if (this.liveDeltas) {
        this.d.publisher.publish([ephemeralEvent(this.groupId, GroupEventKind.AI_DELTA, { delta: { messageId: reply.message.id, text: chunk, offset } })]);
      }
    });
    this.batcher.push(text);
  }

  onStreamEnd(_reply: GroupReply, delivered: boolean): void {
    if (delivered) this.batcher?.flush();
    else this.batcher?.cancel();
  }

  /**
   * Ends the AI message and publishes AI_COMPLETED, checked against the group's profile
   * under its row lock (the join that changes it takes the same lock). The reply's model
   * response is settled in the same statement. An ending that is, or may turn, BLOCKED
   * commits with its AI_BLOCKED case, in one transaction.
   */
  async store(
    reply: GroupReply,
    ending: ReplyEnding,
    usage: Usage,
    judged: { under: SafetyProfileName; final: boolean },
    openCase: OpenBlockedCase,
  ): Promise<StoredEnding | { profileChanged: SafetyProfileName }> {
    const completed = ending.status === 'COMPLETED';
    const verdict = judged.final && completed ? { scores: ending.verdict.scores, profile: judged.under } : undefined;
    const end = (tx?: EntityManager) =>
      finishAiMessage(
        this.d.db,
        reply.message,
        { status: ending.status, body: completed ? ending.text : '', reason: completed ? null : ending.reason, response: settledResponse(reply, ending, usage) },
        judged.final ? { verdict } : { onlyUnder: judged.under },
        { responseId: reply.responseId, owner: this.d.instanceId },
        tx,
      );
    const mayBlock = ending.status === 'BLOCKED' || blockedUnderOf(verdict).length > 0;
    let stored: StoredEnding | null = null;
    const ended = !mayBlock
      ? await end()
      : await this.d.db.transaction(async (tx) => {
          const e = await end(tx);
          if (e) await openCase(tx, (stored = this.storedEnding(reply, ending, e)));
          return e;
        });
    if (!ended) {
      const now = await this.currentProfile();
      if (judged.final || now === judged.under) throw new ReplyNotHeld(reply.responseId);
      return { profileChanged: now };
    }
    this.d.publisher.publish([ended.event]);
    return stored ?? this.storedEnding(reply, ending, ended);
  }

  /** A final store blocks a COMPLETED reply itself when a minor joined meanwhile: the same scores, judged stricter. */
  private storedEnding(reply: GroupReply, ending: ReplyEnding, ended: { status: string; profile: SafetyProfileName }): StoredEnding {
    const stored: ReplyEnding =
      ending.status === 'COMPLETED' && ended.status === 'BLOCKED'
        ? { status: 'BLOCKED', reason: 'CONTENT_BLOCKED', text: ending.text, verdict: { ...moderationDecision(ending.verdict.scores, ended.profile), scores: ending.verdict.scores, source: ending.verdict.source } }
        : ending;
    return { ending: stored, messageId: reply.message.id, profile: ended.profile };
  }

  caseScope(reply: GroupReply): { groupId: string; messageId: string; details: Record<string, unknown> } {
    return { groupId: this.groupId, messageId: reply.message.id, details: { triggerMessageId: this.trigger.id } };
  }

  /** Watches the group for the reply's lifetime (GroupReplies.redo watches through here too). */
  async watch(): Promise<void> {
    this.stopWatching ??= await this.d.watch(this.groupId, this.controller, () => (this.liveDeltas = false));
  }

  /** The reply is over here: stop watching the group. */
  close(): void {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  private async currentProfile(): Promise<SafetyProfileName> {
    const [row]: Array<{ p: SafetyProfileName }> = await this.d.db.query(`SELECT safety_profile AS p FROM groups WHERE id = $1`, [this.groupId]);
    return row?.p ?? 'TEEN';
  }

  /**
   * The optional fast-model classifier for AUTO mode: asked only when the rules found no
   * question. Not an AI response, so nobody is charged; any failure means "stay quiet".
   */
  private async classify(): Promise<boolean> {
    if (!this.d.provider.configured) return false;
    const { history } = this.group;
    const recent: PromptHistoryEntry[] = history.length > 0 ? history.slice(-8).map(promptEntry) : [{ kind: 'USER', authorUsername: this.trigger.authorUsername, body: this.trigger.body }];
    try {
      const { text } = await this.d.provider.stream({ model: this.d.config.ai.models.fast, maxTokens: 3, messages: buildRespondCheckPrompt({ aiName: this.d.config.aiName, history: recent }) });
      return /^\s*yes/i.test(text);
    } catch (err) {
      this.d.log.warn({ err }, 'respond classifier failed');
      return false;
    }
  }

  private async react(emoji: string): Promise<void> {
    await unitOfWork(this.d.db, this.d.publisher, async (uow) => {
      await uow.tx.query(`SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, [this.groupId]);
      const added: unknown[] = await uow.tx.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, NULL, $2) ON CONFLICT DO NOTHING RETURNING 1`, [this.trigger.id, emoji]);
      if (added.length > 0) await uow.append({ groupId: this.groupId, type: GroupEventKind.REACTION_ADDED, messageId: this.trigger.id, data: { emoji, byAi: true } });
    });
  }
}

/** A stored message as the prompt takes it: the author by username; display names come with the member list. */
function promptEntry(m: { kind: 'USER' | 'AI' | 'SYSTEM'; authorUsername: string | null; body: string }): PromptHistoryEntry {
  return { kind: m.kind, authorUsername: m.authorUsername, body: m.body };
}
