/**
 * AI quotas (docs/product.md §4): only AI responses count, charged to the author of the
 * triggering message. A reservation is a `model_responses` row inserted while the
 * user's row is locked, so concurrent triggers never overspend. How a response ends
 * decides whether its unit stays charged (`settlement`, domain/quota/settlement.ts); a
 * unit given back is `charged = false`.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { AiConfig } from '../config/env';
import { preparedQuery } from '../db/prepared';
import { evaluateQuota, QuotaStatus } from '../domain/quota/evaluate-quota';
import { failureReason, settlement } from '../domain/quota/settlement';
import type { Tier } from '../domain/router/select-model';
import type { Plan } from '../domain/plan';
import type { UserEntity } from '../users/user.entity';

export interface Reservation {
  responseId: string;
  status: QuotaStatus;
}

export interface ReserveInput {
  user: Pick<UserEntity, 'id' | 'plan'>;
  groupId?: string | null;
  conversationId?: string | null;
  triggerMessageId: string | null;
  tier: Tier;
  model: string;
  routeReason: string;
}

export class QuotaService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AiConfig,
  ) {}

  limitFor(plan: Plan) {
    return this.config.quota[plan];
  }

  async status(user: Pick<UserEntity, 'id' | 'plan'>, now = new Date(), db: EntityManager = this.db.manager): Promise<QuotaStatus> {
    const limit = this.limitFor(user.plan);
    // What counts as used is `ai_quota_usage` (its migration), the rule the reservations apply too.
    const [row]: Array<{ usage: Date[] }> = await db.query(`SELECT ai_quota_usage($1, $2) AS usage`, [user.id, new Date(now.getTime() - limit.windowMs)]);
    return evaluateQuota(row.usage, limit, now);
  }

  /**
   * Reserves one unit, or returns the exhausted status (and reserves nothing). One call of
   * `reserve_ai_response` (see its migration): the user's row is locked, the usage in the
   * window read and the reservation inserted only while a unit is left.
   */
  async reserve(input: ReserveInput): Promise<{ ok: true; reservation: Reservation } | { ok: false; status: QuotaStatus }> {
    const limit = this.limitFor(input.user.plan);
    const now = new Date();
    const [row] = await preparedQuery<{ responseId: string | null; usage: Date[] }>(
      this.db,
      'quota-reserve',
      `SELECT response_id AS "responseId", usage FROM reserve_ai_response($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [input.user.id, new Date(now.getTime() - limit.windowMs), limit.max, now, input.groupId ?? null, input.conversationId ?? null, input.triggerMessageId, input.user.plan, input.tier, input.model, input.routeReason],
    );
    const status = evaluateQuota(row.usage, limit, now);
    return row.responseId ? { ok: true, reservation: { responseId: row.responseId, status } } : { ok: false, status };
  }

  /** Records that the AI stayed silent for lack of quota (the staff dashboard counts these). */
  async recordExhaustion(user: Pick<UserEntity, 'id' | 'plan'>, groupId: string | null, resetsAt: Date | null): Promise<void> {
    await this.db.query(`INSERT INTO quota_exhaustions (user_id, plan, group_id, resets_at) VALUES ($1, $2, $3, $4)`, [user.id, user.plan, groupId, resetsAt]);
  }

  /**
   * Ends a response that failed (`reason` says why) where no statement storing its reply
   * did: a takeover, a rerun, an error. Whether its unit is given back is `settlement`'s to
   * say; every failure is free today. `messageId` links the failed AI message to it; with
   * `owner`, only while that instance holds the reply's lease. A response already settled
   * stays as it is: a late release must not make a reply free.
   */
  async release(responseId: string, reason: string, { messageId = null, owner = null }: { messageId?: string | null; owner?: string | null } = {}): Promise<void> {
    const charged = settlement({ status: 'FAILED', reason: failureReason(reason) }) === 'CHARGED';
    await this.db.query(
      // A unit given back is never taken again: charged only stays true.
      `UPDATE model_responses SET charged = charged AND $4, status = 'FAILED', status_reason = $2, message_id = coalesce($3, message_id), completed_at = now()
        WHERE id = $1 AND status = 'STREAMING' AND ($5::uuid IS NULL OR lease_owner = $5)`,
      [responseId, reason, messageId, charged, owner],
    );
  }
}
