/**
 * Taking over the AI replies of dead instances (issue 11). Run after every heartbeat in
 * each process that runs jobs, and once at boot. A reply is dead when it is still
 * STREAMING and its lease owner has no live row in `service_instances`, or when it is
 * older than the reply deadline plus the lease whoever holds it (no owner recorded, or an
 * owner stuck past every clock): such a reply has no time left and is ended, not redone.
 * The sweep locks them with FOR UPDATE SKIP LOCKED, so two instances never take the same
 * one, and makes itself their owner. The policy, redo once:
 *
 * - a group reply taken over for the first time is redone (same message id and seq, its
 *   partial text dropped, nothing charged again: GroupReplies.redo);
 * - taken over a second time, it ends FAILED with reason INTERRUPTED and its unit is given back;
 * - a private chat's reply always ends FAILED INTERRUPTED, unit given back: the mutation
 *   that asked for it died with its process, there is nobody to stream it to.
 *
 * A reply handed back at shutdown (its owner is HANDED_BACK_OWNER: GroupReplies.handBackAll)
 * is taken at the next sweep without counting as a takeover, so a deploy does not use up
 * the reply's one redo: a group reply is redone, a private chat's ends FAILED INTERRUPTED.
 *
 * Before that, the graphile-worker jobs the dead instances held are unlocked, so their
 * `ai.respond` jobs run again now (the job is idempotent by its trigger).
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { GroupReplies, HANDED_BACK_OWNER, TakenReply } from '../ai/group-replies';

/** The private chats' side of a takeover (conversations/private-responder.ts; group code stays clear of it). */
export interface PrivateInterrupt {
  interrupt(responseId: string, conversationId: string | null): Promise<void>;
}

const BATCH = 50;

interface TakenRow {
  responseId: string;
  groupId: string | null;
  conversationId: string | null;
  triggerMessageId: string | null;
  messageId: string | null;
  messageSeq: number | null;
  model: string;
  createdAt: Date;
  takeovers: number;
  handedBack: boolean;
}

export class ReplyTakeover {
  private readonly pending = new Set<Promise<unknown>>();
  private sweeping: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    private readonly instanceId: string,
    private readonly limits: { replyDeadlineMs: number; replyLeaseMs: number },
    private readonly log: Logger,
    private readonly groups: GroupReplies,
    private readonly privates: PrivateInterrupt,
  ) {}

  /** One sweep; resolves with the number of replies taken over (their redos go on in the background). */
  sweep(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (!this.sweeping) this.sweeping = this.run().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async run(): Promise<number> {
    // Jobs held by dead instances run again now, not after graphile-worker's four hours.
    await this.db.query(
      `WITH dead AS (DELETE FROM service_instances WHERE expires_at < now() RETURNING worker_ids)
       SELECT graphile_worker.force_unlock_workers(coalesce((SELECT array_agg(w) FROM dead, unnest(dead.worker_ids) AS w), '{}'::text[]))`,
    );
    const taken: TakenRow[] = await this.db.query(
      `WITH dead AS (
         SELECT r.id, r.lease_owner = $3 AS handed_back FROM model_responses r
          WHERE r.status = 'STREAMING'
            AND (r.created_at < now() - $2 * interval '1 millisecond'
                 OR r.lease_owner IS NOT NULL AND r.lease_owner <> $1
                    AND NOT EXISTS (SELECT 1 FROM service_instances i WHERE i.id = r.lease_owner AND i.expires_at > now()))
          ORDER BY r.created_at
          LIMIT ${BATCH}
          FOR UPDATE SKIP LOCKED),
       u AS (
         UPDATE model_responses r SET lease_owner = $1, takeovers = r.takeovers + CASE WHEN dead.handed_back THEN 0 ELSE 1 END
           FROM dead WHERE r.id = dead.id
         RETURNING r.id, r.group_id, r.conversation_id, r.trigger_message_id, r.message_id, r.model, r.created_at, r.takeovers, coalesce(dead.handed_back, false) AS handed_back)
       SELECT u.handed_back AS "handedBack", u.id AS "responseId", u.group_id AS "groupId", u.conversation_id AS "conversationId", u.trigger_message_id AS "triggerMessageId",
              u.message_id AS "messageId", m.seq::int AS "messageSeq", u.model, u.created_at AS "createdAt", u.takeovers
         FROM u LEFT JOIN messages m ON m.id = u.message_id`,
      [this.instanceId, this.limits.replyDeadlineMs + this.limits.replyLeaseMs, HANDED_BACK_OWNER],
    );
    for (const row of taken) {
      if (row.handedBack) this.log.info({ responseId: row.responseId, takeovers: row.takeovers }, 'taking over an AI reply handed back at shutdown');
      else this.log.warn({ responseId: row.responseId, takeovers: row.takeovers }, 'taking over an AI reply from a dead instance');
      if (row.conversationId || !row.groupId || !row.messageId || row.messageSeq === null || !row.triggerMessageId) {
        this.track(this.privates.interrupt(row.responseId, row.conversationId));
        continue;
      }
      const reply: TakenReply = {
        responseId: row.responseId,
        groupId: row.groupId,
        triggerMessageId: row.triggerMessageId,
        messageId: row.messageId,
        messageSeq: row.messageSeq,
        model: row.model,
        createdAt: new Date(row.createdAt),
      };
      // takeovers is 0 only for a reply handed back before any crash.
      this.track(row.takeovers <= 1 ? this.groups.redo(reply) : this.groups.interrupt(reply));
    }
    return taken.length;
  }

  /** Shutdown: no more sweeps (this process takes nothing over while it hands its own work back). */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when every redo started so far has ended. */
  async idle(): Promise<void> {
    await this.sweeping;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err) => this.log.error({ err }, 'taking over an AI reply failed')).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }
}
