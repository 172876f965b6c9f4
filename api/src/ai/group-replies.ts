/**
 * The AI's replies in groups, as durable work: each runs as the `ai.respond` job its
 * trigger message enqueued (messages/send-statement.ts), through the reply pipeline
 * (ai/reply/) with the group's side in GroupReplyChat. This service keeps what outlives
 * one reply: the replies streaming in this process (closing their group cancels them,
 * shutdown hands them back), the redo of a reply taken over from a dead instance, and
 * knowing when all of it is done.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { BackgroundLane } from '../common/background-lane';
import type { EventBus } from '../events/event-bus';
import { GroupEventKind } from '../events/group-event.type';
import type { EventPublisher } from '../events/event-publisher';
import { unitOfWork } from '../db/unit-of-work';
import type { FailureReason } from '../domain/quota/settlement';
import { GroupChatDeps, GroupReply, GroupReplyChat } from './group-chat';
import { loadReplySetting } from './group-context';
import { finishAiMessage } from './ai-message.store';
import { ReplyTimeout } from './reply-clock';
import { HandBack, ReplyNotHeld, settledResponse } from './reply/reply-chat';
import type { ReplyPipeline, ReplyResult } from './reply/reply-pipeline';

/**
 * The lease owner of a reply handed back at shutdown: no instance has this id, so the next
 * takeover sweep of any instance takes the reply at once, without counting it as a takeover.
 */
export const HANDED_BACK_OWNER = '00000000-0000-0000-0000-000000000000';

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

/** What the job that runs a reply is told of it (ai/respond-here.processor.ts, app.ts). */
export interface ReplyJobHooks {
  /** The job starts its work. */
  started?(): void;
  /** The reply and its unit are reserved: from here on the reply's lease covers it, not the job. */
  reserved?(): void;
}

export interface GroupRepliesDeps extends Omit<GroupChatDeps, 'watch' | 'handingBack' | 'lane'> {
  bus: EventBus;
  publisher: EventPublisher;
  pipeline: ReplyPipeline;
}

export class GroupReplies {
  /** Replies streaming in this process, by group: closing the group cancels them. */
  private readonly inflight = new Map<string, Set<AbortController>>();
  private readonly lane = new BackgroundLane();
  private readonly chatDeps: GroupChatDeps;
  private handingBack = false;

  constructor(private readonly d: GroupRepliesDeps) {
    this.chatDeps = { ...d, lane: this.lane, watch: (g, c, onJoin) => this.watch(g, c, onJoin), handingBack: () => this.handingBack };
  }

  /**
   * The `ai.respond` job: the AI's reply to `messageId`, idempotent by the trigger (see
   * start_ai_reply). `hooks.started` is told when the job starts its work, `hooks.reserved`
   * once the reply exists (its own lease covers it from then on).
   */
  async respondTo(messageId: string, hooks: ReplyJobHooks = {}): Promise<ReplyResult | null> {
    hooks.started?.();
    // Setting a reply up steps aside for I/O (see BackgroundLane): the tokens of replies
    // already streaming go out first when many people mention the AI at once.
    await this.lane.turn();
    const setting = await loadReplySetting(this.d.db, messageId);
    if (!setting || setting.group.closed) return null;
    await this.lane.turn();
    const chat = new GroupReplyChat(this.chatDeps, setting.trigger, setting.payer, setting.group, hooks.reserved);
    const result = await this.d.pipeline
      .run(chat)
      .catch((err) => this.notHeld(err))
      .finally(() => chat.close());
    if (result.kind === 'handed_back') await this.handedBack(result.responseId);
    return result;
  }

  /** A reply taken over while this process stalled is the other instance's now: nothing more to do here. */
  private notHeld(err: unknown): ReplyResult {
    if (!(err instanceof ReplyNotHeld)) throw err;
    this.d.log.warn({ responseId: err.responseId }, err.message);
    return { kind: 'skipped' };
  }

  /**
   * Redoes a reply taken over from a dead instance (jobs/reply-takeover.ts): the partial text
   * is dropped (MESSAGE_UPDATED tells clients the body is empty again), and the reply streams
   * again into the same message, same id and seq, deltas from offset 0, charging nothing
   * more. It has what is left of the reply deadline plus the lease, counted from its start.
   */
  async redo(taken: TakenReply): Promise<ReplyResult> {
    const setting = await loadReplySetting(this.d.db, taken.triggerMessageId);
    if (!setting || setting.group.closed) return this.interrupt(taken, setting?.group.closed ? 'CANCELLED' : 'INTERRUPTED');
    const budget = taken.createdAt.getTime() + this.d.config.ai.replyDeadlineMs + this.d.config.ai.replyLeaseMs - Date.now();
    if (budget <= 0) return this.interrupt(taken, 'INTERRUPTED');

    const chat = new GroupReplyChat(this.chatDeps, setting.trigger, setting.payer, setting.group);
    const reply = this.replyOf(taken);
    const timer = setTimeout(() => chat.controller.abort(new ReplyTimeout('deadline', this.d.config.ai.replyDeadlineMs)), budget).unref();
    try {
      await chat.watch();
      const reset = await unitOfWork(this.d.db, this.d.publisher, async (uow) => {
        await uow.tx.query(`SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, [taken.groupId]);
        const rows: unknown[] = await uow.tx.query(`UPDATE messages SET body = '' WHERE id = $1 AND status = 'STREAMING' RETURNING 1`, [taken.messageId]);
        if (rows.length > 0) await uow.append({ groupId: taken.groupId, type: GroupEventKind.MESSAGE_UPDATED, messageId: taken.messageId });
        return rows.length > 0;
      });
      if (!reset) return this.endOrphan(taken);
      this.d.log.info({ responseId: taken.responseId, messageId: taken.messageId }, 'redoing an AI reply taken over from a dead instance');
      const result = await this.d.pipeline.finish(chat, { ...reply, startedAt: Date.now() }).catch((err) => this.notHeld(err));
      if (result.kind === 'handed_back') await this.handedBack(result.responseId);
      return result;
    } finally {
      clearTimeout(timer);
      chat.close();
    }
  }

  /** Ends a group reply taken over for the second time (or that cannot be redone) FAILED, and gives its unit back. */
  async interrupt(taken: TakenReply, reason: Extract<FailureReason, 'INTERRUPTED' | 'CANCELLED'> = 'INTERRUPTED'): Promise<ReplyResult> {
    const setting = await loadReplySetting(this.d.db, taken.triggerMessageId);
    if (setting) {
      const chat = new GroupReplyChat(this.chatDeps, setting.trigger, setting.payer, setting.group);
      const result = await this.d.pipeline.fail(chat, this.replyOf(taken), reason).catch((err) => this.notHeld(err));
      if (result.kind === 'ended') return result;
    } else {
      // The message it answered was deleted meanwhile: the AI message still ends (no reply
      // stays STREAMING), FAILED as any interrupted one, and its unit is given back.
      const message = { id: taken.messageId, groupId: taken.groupId, seq: taken.messageSeq };
      const response = settledResponse(this.replyOf(taken), { status: 'FAILED', reason }, { promptTokens: null, completionTokens: null, latencyMs: null, context: null });
      const ended = await finishAiMessage(this.d.db, message, { status: 'FAILED', body: '', reason, response }, {}, { responseId: taken.responseId, owner: this.d.instanceId });
      if (ended) {
        this.d.publisher.publish([ended.event]);
        return { kind: 'skipped' };
      }
    }
    return this.endOrphan(taken);
  }

  /**
   * The AI message was ended by something other than its reply (staff removed it while it
   * streamed), so no statement storing the reply can settle its model response: it ends
   * FAILED CANCELLED and free here, if this instance still holds it. Left STREAMING, the
   * sweep would take it again at every heartbeat, and its unit would stay used.
   */
  private async endOrphan(taken: TakenReply): Promise<ReplyResult> {
    await this.d.quota.release(taken.responseId, 'CANCELLED', { messageId: taken.messageId, owner: this.d.instanceId });
    return { kind: 'skipped' };
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

  private replyOf(taken: TakenReply): GroupReply {
    return { responseId: taken.responseId, model: taken.model, startedAt: taken.createdAt.getTime(), message: { id: taken.messageId, groupId: taken.groupId, seq: taken.messageSeq } };
  }

  /** Not ended: the partial text stays until the instance that takes the reply over resets it. */
  private async handedBack(responseId: string): Promise<void> {
    await this.d.db.query(`UPDATE model_responses SET lease_owner = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'STREAMING'`, [responseId, this.d.instanceId, HANDED_BACK_OWNER]);
    this.d.log.info({ responseId }, 'AI reply handed back at shutdown');
  }

  /** Cancels the stream when the group is closed, and reports joins, whichever process makes them. */
  private async watch(groupId: string, controller: AbortController, onJoin: () => void): Promise<() => void> {
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
}
