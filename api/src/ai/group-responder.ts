/**
 * The AI participant in groups (PRODUCT.md §4, §6). After a human message has been
 * delivered, this decides whether the AI answers, charges the author's quota, streams
 * the reply into a STREAMING message, and ends it COMPLETED, FAILED or BLOCKED. It also
 * moderates the human message after delivery. Group replies never read or write
 * personal memory: nothing here touches the memory store.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from '../config/env';
import { preparedQuery } from '../db/prepared';
import { buildGroupPrompt, buildRespondCheckPrompt, PromptHistoryEntry } from '../domain/prompt/build-prompt';
import { aiReactionFor } from '../domain/respond-policy/reaction';
import { shouldRespond, RecentMessage } from '../domain/respond-policy/should-respond';
import { allowedTiers, selectModel } from '../domain/router/select-model';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import { appendEvent } from '../events/event-log';
import type { EventBus } from '../events/event-bus';
import type { EventPublisher } from '../events/event-publisher';
import { ephemeralEvent, GroupEventKind, GroupEventType } from '../events/group-event.type';
import type { GroupAtSend } from '../messages/message-sender';
import type { MessageType } from '../messages/message.type';
import { ModerationResult, ModerationService, ModerationUnavailable } from '../moderation/moderation.service';
import { blocksAiInput, moderationDecision } from '../domain/safety/moderation';
import type { SafetyCaseService } from '../moderation/safety-case.service';
import type { Metrics } from '../ops/metrics';
import type { UserEntity } from '../users/user.entity';
import { USER_COLUMNS } from '../users/user.columns';
import type { MessageEntity } from '../messages/message.entity';
import { MESSAGE_COLUMNS } from '../messages/send-statement';
import { loadMessageViews } from '../messages/message.views';
import { AiMessageEnd, AiMessageRef, finishAiMessage, FinishCheck, SettledResponse, startAiReply } from './ai-message.store';
import { BackgroundLane } from '../common/background-lane';
import { DeltaBatcher } from './delta-batcher';
import type { ModelProvider } from './provider';
import { ReplyTimeout } from './reply-clock';
import type { QuotaService } from './quota.service';
import type { RolloutService } from '../rollout/rollout.service';

const HISTORY_MESSAGES = 40;

interface GroupState {
  aiMode: 'AUTO' | 'MENTIONS' | 'OFF';
  safetyProfile: SafetyProfileName;
  customInstructions: string;
  closed: boolean;
  /** The rollout rules' version, read with the group: the AI's rollout check then needs no query of its own. */
  rolloutVersion: number;
  members: Array<{ id: string; displayName: string; username: string }>;
  /** Messages before and including the trigger, oldest first. */
  history: Array<{ id: string; kind: 'USER' | 'AI' | 'SYSTEM'; authorId: string | null; authorUsername: string | null; body: string; status: string; mentionsAi: boolean }>;
}

export interface ResponderDeps {
  db: DataSource;
  config: Config;
  log: Logger;
  metrics: Metrics;
  provider: ModelProvider;
  quota: QuotaService;
  moderation: ModerationService;
  safetyCases: SafetyCaseService;
  publisher: EventPublisher;
  bus: EventBus;
  rollout: RolloutService;
  /** This process's instance id: the lease owner of the replies it streams. */
  instanceId: string;
}

/** A group reply another instance was streaming when it died, taken over by this one (jobs/reply-takeover.ts). */
export interface TakenReply {
  responseId: string;
  groupId: string;
  triggerMessageId: string;
  messageId: string;
  messageSeq: number;
  model: string;
  createdAt: Date;
}

interface StreamingReply {
  trigger: MessageType;
  author: UserEntity;
  group: GroupState;
  model: string;
  responseId: string;
  aiMessage: AiMessageRef;
  started: number;
  controller: AbortController;
  live: { deltas: boolean };
  stopWatching: () => void;
}

export type ResponseOutcome = 'none' | 'reaction' | 'quota_exceeded' | 'COMPLETED' | 'FAILED' | 'BLOCKED' | 'handed_back';

/**
 * The lease owner of a reply handed back at shutdown: no instance has this id, so the next
 * takeover sweep of any instance takes the reply at once, without counting it as a takeover.
 */
export const HANDED_BACK_OWNER = '00000000-0000-0000-0000-000000000000';

/** Why a stream is stopped when the shutdown grace is over: the reply is handed back, not ended. */
export class HandBack extends Error {
  constructor() {
    super('handed back at shutdown');
  }
}

export class GroupResponder {
  /** Responses streaming in this process, by group: closing the group cancels them. */
  private readonly inflight = new Map<string, Set<AbortController>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly lane = new BackgroundLane();
  private jobsIdle: (() => Promise<void>) | null = null;
  private handingBack = false;

  constructor(private readonly d: ResponderDeps) {}

  /** Called after a human message is committed and published. Never throws. */
  onHumanMessage(message: MessageType, author: UserEntity, atSend?: GroupAtSend): void {
    const p = this.handle(message, author, atSend)
      .catch((err) => this.d.log.error({ err, messageId: message.id }, 'AI response failed'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** An edited message is moderated again (the AI does not answer edits). Never throws. */
  onHumanMessageEdited(message: MessageType, author: UserEntity): void {
    const p = this.reviewEdit(message, author)
      .catch((err) => this.d.log.error({ err, messageId: message.id }, 'moderating an edit failed'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async reviewEdit(message: MessageType, author: UserEntity): Promise<void> {
    const [g]: Array<{ profile: SafetyProfileName }> = await this.d.db.query(`SELECT safety_profile AS profile FROM groups WHERE id = $1`, [message.groupId]);
    if (!g) return;
    await this.moderateHuman(message, author, g.profile);
  }

  /** Resolves when every response started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.jobsIdle) await this.jobsIdle();
      if (this.pending.size === 0) return;
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    }
  }

  /** Makes `idle` wait for the job runner too: the replies run as jobs (jobs/job-runner.ts). */
  waitForJobs(idle: () => Promise<void>): void {
    this.jobsIdle = idle;
  }

  /**
   * Shutdown, once SHUTDOWN_GRACE_MS is over: every reply still streaming here is stopped
   * without an end and handed back (its lease owner becomes HANDED_BACK_OWNER), so another
   * instance, or the next start, takes it over and redoes it (jobs/reply-takeover.ts). A job
   * that has not started its reply yet fails, and graphile-worker runs it again elsewhere.
   */
  handBackAll(): void {
    this.handingBack = true;
    for (const set of this.inflight.values()) for (const c of set) c.abort(new HandBack());
  }

  /** Cancels responses under way in a group (it was closed). */
  cancelGroup(groupId: string): void {
    for (const c of this.inflight.get(groupId) ?? []) c.abort(new Error('group closed'));
  }

  /**
   * `atSend` is the group's state when the message committed: with the AI off, only the
   * moderation after delivery runs, and it needs nothing more from the database.
   */
  async handle(trigger: MessageType, author: UserEntity, atSend?: GroupAtSend): Promise<ResponseOutcome> {
    if (atSend?.aiMode === 'OFF') {
      await this.moderateHuman(trigger, author, atSend.safetyProfile);
      return 'none';
    }
    // Setting a reply up steps aside for I/O (see BackgroundLane): the tokens of replies
    // already streaming go out first when many people mention the AI at once.
    await this.lane.turn();
    const group = await this.loadGroup(trigger.groupId, trigger.seq);
    if (!group || group.closed) return 'none';
    await this.lane.turn();

    // The AI's input, and the human message after delivery, are judged together.
    const input = await this.moderateHuman(trigger, author, group.safetyProfile);

    const recent: RecentMessage[] = group.history
      .filter((m) => m.id !== trigger.id)
      .slice(-10)
      .map((m) => ({ kind: m.kind, authorId: m.authorId, body: m.body, mentionsAi: m.mentionsAi }));
    const decision = shouldRespond(
      { body: trigger.body, mentionsAi: trigger.mentionsAi, authorId: author.id, mentionUsernames: trigger.mentions.map((m) => m.username ?? '') },
      recent,
      group.aiMode,
      { aiName: this.d.config.aiName, memberNames: group.members.flatMap((m) => [m.displayName, m.username]) },
    );
    if (input === null || blocksAiInput(input)) return 'none';
    // Outside the group_chats_ai rollout the author gets no answer, reaction or classifier call, and pays nothing.
    if (!(await this.d.rollout.allows(author, 'group_chats_ai', { version: group.rolloutVersion }))) return 'none';
    const respond =
      decision.respond ||
      (group.aiMode === 'AUTO' && decision.reason === 'not_a_question' && this.d.config.ai.classifier && (await this.classify(group, trigger)));
    if (!respond) return 'none';

    const emoji = aiReactionFor(trigger.body);
    if (emoji && trigger.mentionsAi) {
      await this.react(trigger, emoji);
      return 'reaction';
    }

    const context = group.history.map((m) => m.body).join('\n');
    const route = selectModel({ text: trigger.body, contextChars: context.length }, author.plan, allowedTiers(author.plan));
    const model = this.d.config.ai.models[route.tier];
    const started = Date.now();
    // Watch the group before the message exists, so a close in between is not missed. In TEEN
    // groups, and from the moment anyone joins, text is not shown before it is moderated: the
    // reply then appears whole with AI_COMPLETED.
    const controller = new AbortController();
    const live = { deltas: group.safetyProfile === 'STANDARD' };
    const stopWatching = await this.watchGroup(trigger.groupId, controller, () => (live.deltas = false));
    if (this.handingBack) {
      stopWatching();
      throw new HandBack();
    }
    // The author's unit and the STREAMING message, in one call: nothing is charged in a closed
    // group, and nothing is done when the trigger already has its reply (a job run twice).
    const start = await startAiReply(this.d.db, {
      user: author,
      limit: this.d.quota.limitFor(author.plan),
      groupId: trigger.groupId,
      triggerMessageId: trigger.id,
      tier: route.tier,
      model,
      routeReason: route.reason,
      leaseOwner: this.d.instanceId,
    }).catch((err) => {
      stopWatching();
      throw err;
    });
    if (!start.started) {
      stopWatching();
      if ('duplicate' in start || start.closed) return 'none';
      this.notifyQuota(trigger, author, start.status.resetsAt);
      await this.d.quota.recordExhaustion(author, trigger.groupId, start.status.resetsAt);
      return 'quota_exceeded';
    }
    this.d.publisher.publish([start.event]);
    return this.streamReply({ trigger, author, group, model, responseId: start.responseId, aiMessage: start.message, started, controller, live, stopWatching });
  }

  /**
   * The AI's reply to `messageId` (the `ai.respond` job): what `handle` does, for a trigger
   * read back from the database. Idempotent by the trigger (see start_ai_reply).
   */
  async respondTo(messageId: string): Promise<ResponseOutcome> {
    const loaded = await this.loadTrigger(messageId);
    if (!loaded) return 'none';
    return this.handle(loaded.trigger, loaded.author);
  }

  /**
   * Redoes a reply taken over from a dead instance (jobs/reply-takeover.ts): the partial text
   * is dropped (MESSAGE_UPDATED tells clients the body is empty again), and the reply streams
   * again into the same message, same id and seq, deltas from offset 0, charging nothing
   * more. It has what is left of the reply deadline plus the lease, counted from its start.
   */
  async redo(taken: TakenReply): Promise<ResponseOutcome> {
    const loaded = await this.loadTrigger(taken.triggerMessageId);
    const group = loaded ? await this.loadGroup(taken.groupId, loaded.trigger.seq) : null;
    const aiMessage: AiMessageRef = { id: taken.messageId, groupId: taken.groupId, seq: taken.messageSeq };
    if (!loaded || !group || group.closed) {
      await this.interrupt(taken, group?.closed ? 'CANCELLED' : 'INTERRUPTED');
      return 'FAILED';
    }
    const budget = taken.createdAt.getTime() + this.d.config.ai.replyDeadlineMs + this.d.config.ai.replyLeaseMs - Date.now();
    if (budget <= 0) {
      await this.interrupt(taken, 'INTERRUPTED');
      return 'FAILED';
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ReplyTimeout('deadline', this.d.config.ai.replyDeadlineMs)), budget).unref();
    const live = { deltas: group.safetyProfile === 'STANDARD' };
    const watching = await this.watchGroup(taken.groupId, controller, () => (live.deltas = false));
    const stopWatching = () => {
      clearTimeout(timer);
      watching();
    };
    const reset = await this.d.db.transaction(async (tx) => {
      await this.lockGroup(tx, taken.groupId);
      const rows: unknown[] = await tx.query(`UPDATE messages SET body = '' WHERE id = $1 AND status = 'STREAMING' RETURNING 1`, [taken.messageId]);
      if (rows.length === 0) return null;
      return appendEvent(tx, { groupId: taken.groupId, type: GroupEventKind.MESSAGE_UPDATED, messageId: taken.messageId });
    });
    if (!reset) {
      stopWatching();
      return 'none';
    }
    await this.d.publisher.publishStored([reset]);
    this.d.log.info({ responseId: taken.responseId, messageId: taken.messageId }, 'redoing an AI reply taken over from a dead instance');
    return this.streamReply({
      trigger: loaded.trigger,
      author: loaded.author,
      group,
      model: taken.model,
      responseId: taken.responseId,
      aiMessage,
      started: Date.now(),
      controller,
      live,
      stopWatching,
    });
  }

  /** Ends a group reply taken over for the second time (or that cannot be redone) FAILED, and gives its unit back. */
  async interrupt(taken: TakenReply, reason: 'INTERRUPTED' | 'CANCELLED' = 'INTERRUPTED'): Promise<void> {
    await this.d.quota.release(taken.responseId, reason, null, taken.messageId);
    await this.finishMessage({ id: taken.messageId, groupId: taken.groupId, seq: taken.messageSeq }, 'FAILED', '', reason);
  }

  /** The trigger message as the API shows it and its author; null when it is gone. */
  private async loadTrigger(messageId: string): Promise<{ trigger: MessageType; author: UserEntity } | null> {
    const rows: MessageEntity[] = await this.d.db.query(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND deleted_at IS NULL AND kind = 'USER'`, [messageId]);
    if (rows.length === 0 || !rows[0].authorId) return null;
    const [author]: UserEntity[] = await this.d.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [rows[0].authorId]);
    if (!author) return null;
    const [trigger] = await loadMessageViews(this.d.db.manager, rows);
    return { trigger, author };
  }

  /** Streams the reply into its STREAMING message, moderates it and settles its model response. */
  private async streamReply(r: StreamingReply): Promise<ResponseOutcome> {
    const { trigger, author, group, model, responseId, aiMessage, started, controller, live, stopWatching } = r;
    if (!this.d.provider.configured) {
      stopWatching();
      await this.d.quota.release(responseId, 'PROVIDER_NOT_CONFIGURED', Date.now() - started, aiMessage.id);
      await this.finishMessage(aiMessage, 'FAILED', '', 'PROVIDER_NOT_CONFIGURED');
      return 'FAILED';
    }

    const batcher = new DeltaBatcher(this.d.config.ai.deltaFlushMs, this.d.config.ai.deltaFlushChars, (text, offset) => {
      if (live.deltas) this.d.publisher.publish([deltaEvent(trigger.groupId, aiMessage, text, offset)]);
    });
    try {
      await this.lane.turn();
      const messages = buildGroupPrompt({
        aiName: this.d.config.aiName,
        profile: group.safetyProfile,
        customInstructions: group.customInstructions,
        members: group.members.map((m) => ({ displayName: m.displayName, username: m.username })),
        history: group.history.map(promptEntry),
        tokenBudget: this.d.config.ai.contextTokens,
      });
      const completion = await this.d.provider.stream({ model, messages, signal: controller.signal, onDelta: (t) => batcher.push(t) });
      batcher.flush();

      // Judged by the policy in force when the reply is stored: a minor may have joined while it
      // streamed. Usually the profile seen at the start still holds, and the statement storing the
      // reply confirms that under the group's lock; only if it changed is it read and judged again.
      let judged = group.safetyProfile;
      let output = await this.moderateOutput(completion.text, judged);
      const response = { id: responseId, promptTokens: completion.promptTokens, completionTokens: completion.completionTokens, latencyMs: Date.now() - started };
      let ended = await this.storeReply(aiMessage, completion.text, output, judged, true, response);
      if (!ended) {
        judged = await this.currentProfile(trigger.groupId);
        output = await this.moderateOutput(completion.text, judged);
        response.latencyMs = Date.now() - started;
        ended = (await this.storeReply(aiMessage, completion.text, output, judged, false, response))!;
      }
      // A COMPLETED reply settled its model response in the statement that stored it.
      if (ended.status === 'COMPLETED' && ended.responseSettled) return 'COMPLETED';
      const usage = { promptTokens: response.promptTokens, completionTokens: response.completionTokens, latencyMs: response.latencyMs, messageId: aiMessage.id };
      if (ended.status === 'COMPLETED') {
        await this.d.quota.finish(responseId, { status: 'COMPLETED', ...usage });
        return 'COMPLETED';
      }
      if (output !== null && !output.block) {
        // A minor joined while the output was being moderated: the same scores, judged stricter.
        judged = ended.profile;
        output = { ...moderationDecision(output.scores, judged), scores: output.scores, source: output.source };
      }
      await this.d.quota.finish(responseId, { status: 'BLOCKED', reason: output ? output.categories.join(',') : 'MODERATION_UNAVAILABLE', ...usage });
      await this.d.safetyCases.open({
        source: 'AI_BLOCKED',
        groupId: trigger.groupId,
        messageId: aiMessage.id,
        authorId: null,
        categories: output?.categories ?? [],
        severity: output && output.severity !== 'none' ? output.severity : 'high',
        teen: judged === 'TEEN',
        excerpt: completion.text,
        details: { triggerMessageId: trigger.id, reason: output ? 'blocked' : 'moderation_unavailable', chargedUserId: author.id },
      });
      return 'BLOCKED';
    } catch (err) {
      // Whatever streamed is dropped: a reply cut off or failed ends empty, and costs nothing.
      batcher.cancel();
      if (controller.signal.reason instanceof HandBack) {
        // Not ended: the partial text stays until the instance that takes the reply over resets it.
        await this.d.db.query(`UPDATE model_responses SET lease_owner = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'STREAMING'`, [
          responseId,
          this.d.instanceId,
          HANDED_BACK_OWNER,
        ]);
        this.d.log.info({ responseId, messageId: aiMessage.id }, 'AI reply handed back at shutdown');
        return 'handed_back';
      }
      const reason = controller.signal.reason instanceof ReplyTimeout || err instanceof ReplyTimeout ? 'TIMEOUT' : controller.signal.aborted ? 'CANCELLED' : 'PROVIDER_ERROR';
      if (reason !== 'CANCELLED') this.d.log.warn({ err, groupId: trigger.groupId, reason }, 'model provider failed');
      await this.d.quota.release(responseId, reason, Date.now() - started, aiMessage.id);
      await this.finishMessage(aiMessage, 'FAILED', '', reason);
      return 'FAILED';
    } finally {
      stopWatching();
    }
  }

  /**
   * The optional fast-model classifier for AUTO mode: asked only when the rules found no
   * question. Not an AI response, so nobody is charged; any failure means "stay quiet".
   */
  private async classify(group: GroupState, trigger: MessageType): Promise<boolean> {
    if (!this.d.provider.configured) return false;
    const recent: PromptHistoryEntry[] = group.history.length > 0 ? group.history.slice(-8).map(promptEntry) : [{ kind: 'USER', authorUsername: trigger.author?.username ?? null, body: trigger.body }];
    try {
      const { text } = await this.d.provider.stream({
        model: this.d.config.ai.models.fast,
        maxTokens: 3,
        messages: buildRespondCheckPrompt({ aiName: this.d.config.aiName, history: recent }),
      });
      return /^\s*yes/i.test(text);
    } catch (err) {
      this.d.log.warn({ err }, 'respond classifier failed');
      return false;
    }
  }

  /**
   * The group with its members and recent history, in one statement: every human message
   * asks. With the AI off only moderation runs, and it needs neither list.
   */
  private async loadGroup(groupId: string, uptoSeq: number): Promise<GroupState | null> {
    const [g] = await preparedQuery<GroupState>(
      this.d.db,
      'ai-load-group',
      `SELECT g.ai_mode AS "aiMode", g.safety_profile AS "safetyProfile", g.custom_instructions AS "customInstructions", g.closed_at IS NOT NULL AS closed,
              (SELECT version FROM rollout_state)::float8 AS "rolloutVersion",
              CASE WHEN g.ai_mode = 'OFF' THEN '[]'::json ELSE coalesce((
                SELECT json_agg(json_build_object('id', u.id, 'displayName', u.display_name, 'username', u.username) ORDER BY m.joined_at)
                  FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id), '[]'::json) END AS members,
              CASE WHEN g.ai_mode = 'OFF' THEN '[]'::json ELSE coalesce((
                SELECT json_agg(json_build_object('id', r.id, 'kind', r.kind, 'authorId', r.author_id, 'authorUsername', a.username, 'body', r.body, 'status', r.status, 'mentionsAi', r.mentions_ai) ORDER BY r.seq)
                  FROM (SELECT * FROM messages WHERE group_id = g.id AND seq <= $2 AND status IN ('SENT', 'COMPLETED') ORDER BY seq DESC LIMIT $3) r
                  LEFT JOIN users a ON a.id = r.author_id), '[]'::json) END AS history
         FROM groups g WHERE g.id = $1`,
      [groupId, uptoSeq, HISTORY_MESSAGES],
    );
    return g ?? null;
  }

  /**
   * Moderates a human message after delivery (the same verdict judges it as the AI's input)
   * and flags it; null when moderation is unavailable there (TEEN: the AI then stays silent).
   */
  private async moderateHuman(message: MessageType, author: UserEntity, profile: SafetyProfileName): Promise<ModerationResult | null> {
    let result: ModerationResult | null;
    try {
      result = await this.d.moderation.checkOrFallback(message.body, profile);
    } catch (err) {
      if (!(err instanceof ModerationUnavailable)) throw err;
      result = null;
    }
    if (result?.flagged) await this.flagHumanMessage(message, author, result, profile);
    return result;
  }

  /** The reply's moderation under `profile`; null when moderation is unavailable there (TEEN: fail closed). */
  private async moderateOutput(text: string, profile: SafetyProfileName): Promise<ModerationResult | null> {
    try {
      return await this.d.moderation.checkOrFallback(text, profile);
    } catch (err) {
      if (!(err instanceof ModerationUnavailable)) throw err;
      return null;
    }
  }

  /**
   * Stores the reply as judged under `profile`: COMPLETED with its text, or BLOCKED and empty.
   * With `onlyIfUnchanged`, nothing is stored (null) unless the group still has that profile;
   * without, a COMPLETED reply is re-judged under the profile in force.
   */
  private storeReply(message: AiMessageRef, text: string, output: ModerationResult | null, profile: SafetyProfileName, onlyIfUnchanged: boolean, response: SettledResponse) {
    const unchanged: FinishCheck = onlyIfUnchanged ? { onlyUnder: profile } : {};
    if (output === null || output.block) return this.finishMessage(message, 'BLOCKED', '', output ? 'CONTENT_BLOCKED' : 'MODERATION_UNAVAILABLE', unchanged);
    return this.finishMessage(message, 'COMPLETED', text, null, onlyIfUnchanged ? unchanged : { verdict: { scores: output.scores, profile } }, response);
  }

  private async currentProfile(groupId: string): Promise<SafetyProfileName> {
    const [row]: Array<{ p: SafetyProfileName }> = await this.d.db.query(`SELECT safety_profile AS p FROM groups WHERE id = $1`, [groupId]);
    return row?.p ?? 'TEEN';
  }

  /** Cancels the stream when the group is closed, and reports joins, whichever process makes them. */
  private async watchGroup(groupId: string, controller: AbortController, onJoin: () => void): Promise<() => void> {
    let set = this.inflight.get(groupId);
    if (!set) this.inflight.set(groupId, (set = new Set()));
    set.add(controller);
    const unsubscribe = await this.d.bus.subscribe(groupId, (e) => {
      if (e.type === GroupEventKind.GROUP_CLOSED) controller.abort(new Error('group closed'));
      else if (e.type === GroupEventKind.MEMBER_JOINED) onJoin();
    });
    return () => {
      unsubscribe();
      set!.delete(controller);
      if (set!.size === 0) this.inflight.delete(groupId);
    };
  }

  /**
   * Ends the AI message and publishes its AI_COMPLETED event. `check` ties the end to the
   * group's profile at the moment of storing (see FinishCheck). Returns how it ended, or
   * null when `check.onlyUnder` no longer held and nothing was stored.
   */
  private async finishMessage(
    message: AiMessageRef,
    status: AiMessageEnd,
    body: string,
    reason: string | null,
    check?: FinishCheck,
    response?: SettledResponse,
  ): Promise<{ status: AiMessageEnd; profile: SafetyProfileName; responseSettled: boolean } | null> {
    const ended = await finishAiMessage(this.d.db, message, { status, body, reason, response }, check);
    if (!ended) return null;
    this.d.metrics.aiResponses.inc({ status: ended.status });
    this.d.publisher.publish([ended.event]);
    return { status: ended.status, profile: ended.profile, responseSettled: ended.responseSettled };
  }

  private async lockGroup(tx: EntityManager, groupId: string): Promise<void> {
    await tx.query(`SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, [groupId]);
  }

  private async react(trigger: MessageType, emoji: string): Promise<void> {
    const row = await this.d.db.transaction(async (tx) => {
      await this.lockGroup(tx, trigger.groupId);
      const added: unknown[] = await tx.query(
        `INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, NULL, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [trigger.id, emoji],
      );
      if (added.length === 0) return null;
      return appendEvent(tx, { groupId: trigger.groupId, type: GroupEventKind.REACTION_ADDED, messageId: trigger.id, data: { emoji, byAi: true } });
    });
    if (row) await this.d.publisher.publishStored([row]);
  }

  /** Only the person whose quota ran out is told, with the time it resets. */
  private notifyQuota(trigger: MessageType, author: UserEntity, resetsAt: Date | null): void {
    const when = resetsAt ? ` It resets at ${resetsAt.toISOString()}.` : '';
    this.d.publisher.publish([
      ephemeralEvent(trigger.groupId, GroupEventKind.QUOTA_NOTICE, {
        notice: { code: 'QUOTA_EXCEEDED', message: `You have used up your AI responses for now.${when}`, resetsAt, messageId: trigger.id },
        visibleTo: author.id,
      }),
    ]);
  }

  /** Opens a case for a flagged human message; in TEEN groups a high-severity one is hidden until reviewed. */
  private async flagHumanMessage(trigger: MessageType, author: UserEntity, result: ModerationResult, profile: SafetyProfileName): Promise<void> {
    const hide = profile === 'TEEN' && result.hideUntilReviewed;
    const row = await this.d.db.transaction(async (tx) => {
      // A job run again must not open a second case: the group's lock orders the two runs.
      await this.lockGroup(tx, trigger.groupId);
      const known: unknown[] = await tx.query(`SELECT 1 FROM safety_cases WHERE message_id = $1 AND source = 'AUTO_FLAG' LIMIT 1`, [trigger.id]);
      if (known.length > 0) return null;
      await this.d.safetyCases.open(
        {
          source: 'AUTO_FLAG',
          groupId: trigger.groupId,
          messageId: trigger.id,
          authorId: author.id,
          categories: result.categories,
          severity: result.severity === 'none' ? 'low' : result.severity,
          teen: profile === 'TEEN',
          excerpt: trigger.body,
          details: { scores: result.scores, source: result.source, hidden: hide },
        },
        tx,
      );
      if (!hide) return null;
      const hidden: unknown[] = await tx.query(
        `WITH h AS (UPDATE messages SET status = 'HIDDEN', status_reason = 'UNDER_REVIEW' WHERE id = $1 AND status = 'SENT' RETURNING 1) SELECT * FROM h`,
        [trigger.id],
      );
      if (hidden.length === 0) return null;
      return appendEvent(tx, { groupId: trigger.groupId, type: GroupEventKind.MESSAGE_UPDATED, messageId: trigger.id });
    });
    if (row) await this.d.publisher.publishStored([row]);
  }
}

/** A stored message as the prompt takes it: the author by username; display names come with the member list. */
function promptEntry(m: { kind: 'USER' | 'AI' | 'SYSTEM'; authorUsername: string | null; body: string }): PromptHistoryEntry {
  return { kind: m.kind, authorUsername: m.authorUsername, body: m.body };
}

function deltaEvent(groupId: string, message: { id: string }, text: string, offset: number): GroupEventType {
  return ephemeralEvent(groupId, GroupEventKind.AI_DELTA, { delta: { messageId: message.id, text, offset } });
}
