/**
 * Quota inspection and account actions for staff (docs/product.md §8): users with their quota
 * window and recent AI responses, quota resets, suspension. Every change writes its
 * audit entry in the same transaction.
 */
import type { DataSource } from 'typeorm';
import type { QuotaService } from '../ai/quota.service';
import type { Config } from '../config/env';
import type { EventBus } from '../events/event-bus';
import { Plan, PLANS } from '../domain/plan';
import { badInput, notFound } from '../errors';
import { isUuid } from '../groups/group.policy';
import { AuditActor, validReason, writeAudit } from './audit';
import { AdminModelResponseView, AdminUserView, ModelResponseFilter, PlanLimitType, QuotaWindowType, UserFilter } from './admin-user.type';
import { likePattern, ListArgs, MAX_PER_PAGE, orderBy, pageOf, Where } from './list-query';

const USER_COLUMNS = `u.id, u.subject, u.username, u.display_name AS "displayName", u.region, u.plan, u.age_band AS "ageBand",
  u.parental_group_chats AS "parentalGroupChats", u.suspended_at IS NOT NULL AS suspended, u.suspended_at AS "suspendedAt",
  u.suspended_reason AS "suspendedReason", u.created_at AS "createdAt", u.quota_reset_at AS "quotaResetAt"`;

const USER_SORT: Record<string, string[]> = {
  createdAt: ['u.created_at ASC'],
  username: ['u.username ASC'],
  plan: ['u.plan ASC'],
  region: ['u.region ASC'],
};

export const RESPONSE_COLUMNS = `r.id, r.group_id AS "groupId", r.conversation_id AS "conversationId", r.charged_user_id AS "chargedUserId",
  r.plan, r.tier, r.model, r.route_reason AS "routeReason", r.status, r.status_reason AS "statusReason", r.charged,
  r.prompt_tokens AS "promptTokens", r.completion_tokens AS "completionTokens", r.latency_ms AS "latencyMs", r.created_at AS "createdAt"`;

const RESPONSE_SORT: Record<string, string[]> = {
  createdAt: ['r.created_at ASC'],
  model: ['r.model ASC'],
  plan: ['r.plan ASC'],
  status: ['r.status ASC'],
  latencyMs: ['r.latency_ms ASC'],
};

/** 18000000 ms → "5h", for window labels. */
function windowLabel(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

export class UserAdminService {
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly quota: QuotaService,
    private readonly bus: EventBus,
  ) {}

  async list(args: ListArgs, filter: UserFilter | null | undefined): Promise<AdminUserView[]> {
    const w = this.userWhere(filter);
    const { limit, offset } = pageOf(args);
    const order = orderBy(args, USER_SORT, { field: 'createdAt', order: 'DESC' }, 'u.id');
    return this.db.query(`SELECT ${USER_COLUMNS} FROM users u ${w.sql} ORDER BY ${order} LIMIT ${w.next(limit)} OFFSET ${w.next(offset)}`, w.params);
  }

  async count(filter: UserFilter | null | undefined): Promise<number> {
    const w = this.userWhere(filter);
    const [row]: Array<{ count: number }> = await this.db.query(`SELECT count(*)::int AS count FROM users u ${w.sql}`, w.params);
    return row.count;
  }

  async get(id: string): Promise<AdminUserView | null> {
    if (!isUuid(id)) return null;
    const [row]: AdminUserView[] = await this.db.query(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`, [id]);
    return row ?? null;
  }

  async quotaWindows(user: AdminUserView): Promise<QuotaWindowType[]> {
    const limit = this.quota.limitFor(user.plan as Plan);
    const status = await this.quota.status({ id: user.id, plan: user.plan as Plan });
    return [{ window: windowLabel(limit.windowMs), windowSeconds: Math.round(limit.windowMs / 1000), limit: status.limit, used: status.used, remaining: status.remaining, resetsAt: status.resetsAt, resetAt: user.quotaResetAt }];
  }

  planLimits(): PlanLimitType[] {
    return PLANS.map((plan) => {
      const l = this.config.ai.quota[plan];
      return { plan, window: windowLabel(l.windowMs), windowSeconds: Math.round(l.windowMs / 1000), limit: l.max };
    });
  }

  /** Forgives what the user was charged so far; the rolling window then starts empty. */
  async resetQuota(userId: string, reason: string, actor: AuditActor): Promise<AdminUserView> {
    const text = validReason(reason);
    const user = await this.require(userId);
    const before = await this.quota.status({ id: user.id, plan: user.plan as Plan });
    await this.db.transaction(async (tx) => {
      // The service's clock, like the reservations it is compared with (QuotaService stamps them).
      await tx.query(`UPDATE users SET quota_reset_at = $2 WHERE id = $1`, [userId, new Date()]);
      await writeAudit(tx, actor, { action: 'QUOTA_RESET', targetType: 'User', targetId: userId, reason: text, details: { plan: user.plan, usedBefore: before.used, limit: before.limit } });
    });
    return (await this.get(userId))!;
  }

  async setSuspended(userId: string, suspended: boolean, reason: string, actor: AuditActor): Promise<AdminUserView> {
    const text = validReason(reason);
    await this.require(userId);
    await this.db.transaction(async (tx) => {
      const [before]: Array<{ suspendedAt: Date | null }> = await tx.query(`SELECT suspended_at AS "suspendedAt" FROM users WHERE id = $1 FOR UPDATE`, [userId]);
      await tx.query(
        suspended
          ? `UPDATE users SET suspended_at = coalesce(suspended_at, now()), suspended_reason = $2, updated_at = now() WHERE id = $1`
          : `UPDATE users SET suspended_at = NULL, suspended_reason = NULL, updated_at = now() WHERE id = $1`,
        suspended ? [userId, text] : [userId],
      );
      await writeAudit(tx, actor, {
        action: suspended ? 'USER_SUSPENDED' : 'USER_UNSUSPENDED',
        targetType: 'User',
        targetId: userId,
        reason: text,
        details: { wasSuspended: before.suspendedAt !== null },
      });
    });
    // Once committed: the user's open sockets, in every process, close (graphql/ws-session.ts).
    if (suspended) this.bus.publishControl({ type: 'user-suspended', userId });
    return (await this.get(userId))!;
  }

  recentResponses(userId: string, limit: number): Promise<AdminModelResponseView[]> {
    const n = Math.max(1, Math.min(Number.isInteger(limit) ? limit : 20, MAX_PER_PAGE));
    return this.db.query(`SELECT ${RESPONSE_COLUMNS} FROM model_responses r WHERE r.charged_user_id = $1 ORDER BY r.created_at DESC, r.id LIMIT $2`, [userId, n]);
  }

  async listResponses(args: ListArgs, filter: ModelResponseFilter | null | undefined): Promise<AdminModelResponseView[]> {
    const w = this.responseWhere(filter);
    const { limit, offset } = pageOf(args);
    const order = orderBy(args, RESPONSE_SORT, { field: 'createdAt', order: 'DESC' }, 'r.id');
    return this.db.query(`SELECT ${RESPONSE_COLUMNS} FROM model_responses r ${w.sql} ORDER BY ${order} LIMIT ${w.next(limit)} OFFSET ${w.next(offset)}`, w.params);
  }

  async countResponses(filter: ModelResponseFilter | null | undefined): Promise<number> {
    const w = this.responseWhere(filter);
    const [row]: Array<{ count: number }> = await this.db.query(`SELECT count(*)::int AS count FROM model_responses r ${w.sql}`, w.params);
    return row.count;
  }

  async response(id: string): Promise<AdminModelResponseView | null> {
    if (!isUuid(id)) return null;
    const [row]: AdminModelResponseView[] = await this.db.query(`SELECT ${RESPONSE_COLUMNS} FROM model_responses r WHERE r.id = $1`, [id]);
    return row ?? null;
  }

  private async require(userId: string): Promise<AdminUserView> {
    const user = await this.get(userId);
    if (!user) throw notFound('User');
    return user;
  }

  private userWhere(filter: UserFilter | null | undefined): Where {
    const w = new Where();
    if (!filter) return w;
    w.ids(filter.ids, 'u.id').maybe(filter.plan, 'u.plan = ?').maybe(filter.region, 'u.region = ?');
    if (filter.suspended != null) w.add(filter.suspended ? 'u.suspended_at IS NOT NULL' : 'u.suspended_at IS NULL');
    if (filter.q) w.add(`(u.username ILIKE ? OR u.display_name ILIKE ? OR u.subject ILIKE ?)`, ...Array(3).fill(likePattern(filter.q)));
    return w;
  }

  private responseWhere(filter: ModelResponseFilter | null | undefined): Where {
    const w = new Where();
    if (!filter) return w;
    w.ids(filter.ids, 'r.id').maybe(filter.model, 'r.model = ?').maybe(filter.plan, 'r.plan = ?').maybe(filter.status, 'r.status = ?');
    if (filter.chargedUserId != null) w.add('r.charged_user_id = ?', isUuid(filter.chargedUserId) ? filter.chargedUserId : null);
    return w;
  }
}
