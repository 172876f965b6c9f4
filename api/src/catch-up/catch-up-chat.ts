/**
 * A catch-up's side of the reply pipeline (ai/reply/): the summary of what one member
 * missed, paid from their quota, streamed to them alone (ephemeral events with
 * `visibleTo`), stored as their catch-up. It reads the group messages after their read
 * position and after they joined, newest first up to AI_CATCH_UP_MAX_MESSAGES, leaving out
 * what is hidden, deleted or moderated away, and never anyone's personal memory.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../config/env';
import { buildCatchUpPrompt, ChatMessage, PromptHistoryEntry } from '../domain/prompt/build-prompt';
import type { QuotaStatus } from '../domain/quota/evaluate-quota';
import { ReplyContext, replyContext } from '../domain/prompt/reply-context';
import type { RouteDecision } from '../domain/router/select-model';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import type { EventPublisher } from '../events/event-publisher';
import { ephemeralEvent, GroupEventKind } from '../events/group-event.type';
import type { QuotaService } from '../ai/quota.service';
import { DeltaBatcher } from '../ai/delta-batcher';
import { Answer, Declined, OpenBlockedCase, ReplyChat, ReplyEnding, ReplyNotHeld, ReplyRef, Reserve, SettledResponse, settledResponse, StoredEnding, Usage } from '../ai/reply/reply-chat';
import type { UserEntity } from '../users/user.entity';
import { CATCH_UP_COLUMNS, CatchUpStatusEnum, CatchUpType } from './catch-up.type';

/** What a member with nothing unread is told, without asking the model. */
export const NOTHING_UNREAD = 'You are all caught up: there is nothing new since you last read.';

export interface CatchUpChatDeps {
  db: DataSource;
  config: Config;
  quota: QuotaService;
  publisher: EventPublisher;
  /** This process's instance id: the lease owner of the catch-ups it streams. */
  instanceId: string;
}

/** The group as a catch-up reads it. */
export interface CatchUpGroup {
  safetyProfile: SafetyProfileName;
  members: Array<{ displayName: string; username: string }>;
}

type Unread = PromptHistoryEntry & { id: string; seq: number };

export class CatchUpChat implements ReplyChat<ReplyRef> {
  readonly kind = 'CATCH_UP';
  readonly groupId: string;
  /** The catch-up as stored last: what the job ends with. */
  stored: CatchUpType | null = null;
  private unread: Unread[] = [];
  private batcher: DeltaBatcher | null = null;
  private context: ReplyContext | null = null;

  constructor(
    private readonly d: CatchUpChatDeps,
    private readonly catchUp: CatchUpType,
    readonly payer: UserEntity,
    private readonly group: CatchUpGroup,
  ) {
    this.groupId = catchUp.groupId;
  }

  get profile(): SafetyProfileName {
    return this.group.safetyProfile;
  }

  /** Something to summarise: the unread window. Nothing unread is answered without the model, free. */
  async answer(): Promise<Answer> {
    this.unread = await this.readUnread();
    if (this.unread.length === 0) return { kind: 'none' };
    const text = this.unread.map((m) => m.body).join('\n');
    // The router sizes the request by its newest text and the context's length.
    return { kind: 'reply', route: { text: text.slice(-4000), contextChars: text.length } };
  }

  async decline(_why: Declined): Promise<void> {
    const ended = await this.end(CatchUpStatusEnum.COMPLETED, null, NOTHING_UNREAD, null);
    if (ended) this.published(ended);
  }

  async reserve(route: RouteDecision, model: string): Promise<Reserve<ReplyRef>> {
    const reserved = await this.d.quota.reserve({ user: this.payer, groupId: this.groupId, triggerMessageId: null, tier: route.tier, model, routeReason: route.reason });
    if (!reserved.ok) return { kind: 'exhausted', status: reserved.status };
    const responseId = reserved.reservation.responseId;
    // Its lease, as for every reply; a crash is answered by the job running again (catch-up.service.ts).
    await this.d.db.query(
      `WITH r AS (UPDATE model_responses SET lease_owner = $3 WHERE id = $2 AND status = 'STREAMING')
       UPDATE catch_ups SET status = 'STREAMING', response_id = $2 WHERE id = $1`,
      [this.catchUp.id, responseId, this.d.instanceId],
    );
    return { kind: 'reserved', reply: { responseId, model, startedAt: Date.now() } };
  }

  /** Ends FAILED QUOTA_EXCEEDED, and tells the viewer when a unit frees up, as a group reply's payer is told. */
  async quotaExceeded(status: QuotaStatus): Promise<void> {
    const ended = await this.end(CatchUpStatusEnum.FAILED, 'QUOTA_EXCEEDED', '', null);
    if (ended) this.published(ended);
    const when = status.resetsAt ? ` It resets at ${status.resetsAt.toISOString()}.` : '';
    this.d.publisher.publish([
      ephemeralEvent(this.groupId, GroupEventKind.QUOTA_NOTICE, {
        notice: { code: 'QUOTA_EXCEEDED', message: `You have used up your AI responses for now.${when}`, resetsAt: status.resetsAt, messageId: null },
        visibleTo: this.payer.id,
      }),
    ]);
  }

  async prompt(): Promise<{ messages: ChatMessage[]; context: ReplyContext }> {
    const viewer = { displayName: this.payer.displayName ?? this.payer.username ?? '', username: this.payer.username ?? '' };
    const messages = buildCatchUpPrompt({
      aiName: this.d.config.aiName,
      profile: this.group.safetyProfile,
      viewer,
      members: this.group.members,
      unread: this.unread,
      tokenBudget: this.d.config.ai.contextTokens,
    });
    // The system message first and the request last; between them, the newest unread messages that fit.
    this.context = replyContext(this.unread, messages.length - 2, false);
    return { messages, context: this.context };
  }

  onDelta(reply: ReplyRef, text: string): void {
    // In TEEN groups nothing is shown before the output is moderated: the summary comes whole.
    if (this.group.safetyProfile !== 'STANDARD') return;
    this.batcher ??= new DeltaBatcher(this.d.config.ai.deltaFlushMs, this.d.config.ai.deltaFlushChars, (chunk, offset) =>
      this.d.publisher.publish([
        ephemeralEvent(this.groupId, GroupEventKind.CATCH_UP_DELTA, { delta: { messageId: this.catchUp.id, text: chunk, offset }, visibleTo: this.payer.id }),
      ]),
    );
    this.batcher.push(text);
  }

  onStreamEnd(_reply: ReplyRef, delivered: boolean): void {
    if (delivered) this.batcher?.flush();
    else this.batcher?.cancel();
  }

  /** Ends the catch-up with its model response settled; a BLOCKED one commits with its AI_BLOCKED case. */
  async store(reply: ReplyRef, ending: ReplyEnding, usage: Usage, _judged: unknown, openCase: OpenBlockedCase): Promise<StoredEnding> {
    const completed = ending.status === 'COMPLETED';
    const stored: StoredEnding = { ending, messageId: null, profile: this.profile };
    const end = (tx?: EntityManager) => this.end(ending.status as CatchUpStatusEnum, completed ? null : ending.reason, completed ? ending.text : '', settledResponse(reply, ending, usage), tx);
    const ended =
      ending.status === 'BLOCKED'
        ? await this.d.db.transaction(async (tx) => {
            const row = await end(tx);
            if (row) await openCase(tx, stored);
            return row;
          })
        : await end();
    if (!ended) throw new ReplyNotHeld(reply.responseId);
    this.published(ended);
    return stored;
  }

  caseScope(): { groupId: string; messageId: null; details: Record<string, unknown> } {
    return { groupId: this.groupId, messageId: null, details: { catchUpId: this.catchUp.id, viewerId: this.payer.id } };
  }

  /** The newest unread messages a member may see, oldest first: after their read position and their join. */
  private async readUnread(): Promise<Unread[]> {
    return this.d.db.query(
      `SELECT id, seq, kind, "authorUsername", body FROM (
         SELECT m.id, m.seq::int AS seq, m.kind, a.username AS "authorUsername", m.body
           FROM messages m
           JOIN group_members gm ON gm.group_id = m.group_id AND gm.user_id = $2
           LEFT JOIN users a ON a.id = m.author_id
          WHERE m.group_id = $1 AND m.seq > $3 AND m.created_at >= gm.joined_at
            AND m.kind IN ('USER', 'AI') AND m.status IN ('SENT', 'COMPLETED') AND m.deleted_at IS NULL AND m.body <> ''
          ORDER BY m.seq DESC LIMIT $4) newest
        ORDER BY seq`,
      [this.groupId, this.payer.id, this.catchUp.afterSeq, this.d.config.ai.catchUpMaxMessages],
    );
  }

  /**
   * Stores how the catch-up ended (`published` then tells the member). With a reply, only
   * while it is still this instance's (its lease), so a process that stalled cannot overwrite a redo.
   */
  private async end(status: CatchUpStatusEnum, reason: string | null, body: string, response: SettledResponse | null, tx?: EntityManager): Promise<CatchUpType | null> {
    const c = this.context;
    const [row]: CatchUpType[] = await (tx ?? this.d.db).query(
      `WITH c AS (
         UPDATE catch_ups SET status = $2, status_reason = $3, body = $4, completed_at = now(), from_seq = $5, to_seq = $6, message_count = $7
          WHERE id = $1 AND status IN ('PENDING', 'STREAMING')
            AND ($8::uuid IS NULL OR EXISTS (SELECT 1 FROM model_responses WHERE id = $8 AND lease_owner = $9::uuid))
          RETURNING ${CATCH_UP_COLUMNS}),
       -- The summary's model response is settled with it. A unit given back is never taken again.
       r AS (
         UPDATE model_responses SET status = $2, status_reason = $3, charged = charged AND $10, prompt_tokens = $11, completion_tokens = $12,
                latency_ms = $13, context = coalesce($14, context), completed_at = now()
           FROM c WHERE model_responses.id = $8)
       SELECT * FROM c`,
      [
        this.catchUp.id, status, reason, body, c?.fromSeq ?? null, c?.toSeq ?? null, c?.messageCount ?? 0, response?.id ?? null, this.d.instanceId,
        response?.charged ?? false, response?.promptTokens ?? null, response?.completionTokens ?? null, response?.latencyMs ?? null, response?.context ?? null,
      ],
    );
    return row ?? null;
  }

  /** The catch-up is over, once committed: the member alone is told. */
  private published(row: CatchUpType): void {
    this.stored = row;
    this.d.publisher.publish([ephemeralEvent(this.groupId, GroupEventKind.CATCH_UP_COMPLETED, { catchUp: row, visibleTo: this.payer.id })]);
  }
}
