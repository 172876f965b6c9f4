/** Reading the staff audit log, and the dashboard's counts. */
import type { DataSource } from 'typeorm';
import { isUuid } from '../groups/group.policy';
import type { AuditEntryFilter, AuditEntryType, DashboardType } from './audit-log.type';
import { ListArgs, orderBy, pageOf, Where } from './list-query';

const AUDIT_COLUMNS = `a.id, a.actor_id AS "actorId", a.actor_email AS "actorEmail", a.action, a.target_type AS "targetType",
  a.target_id AS "targetId", a.reason, a.details::text AS details, a.created_at AS "createdAt"`;

const AUDIT_SORT: Record<string, string[]> = {
  createdAt: ['a.created_at ASC'],
  action: ['a.action ASC'],
  actorEmail: ['a.actor_email ASC'],
  targetType: ['a.target_type ASC'],
};

const DAY_MS = 24 * 3_600_000;

export class AuditLogService {
  constructor(private readonly db: DataSource) {}

  async list(args: ListArgs, filter: AuditEntryFilter | null | undefined): Promise<AuditEntryType[]> {
    const w = this.where(filter);
    const { limit, offset } = pageOf(args);
    const order = orderBy(args, AUDIT_SORT, { field: 'createdAt', order: 'DESC' }, 'a.id');
    return this.db.query(`SELECT ${AUDIT_COLUMNS} FROM staff_audit a ${w.sql} ORDER BY ${order} LIMIT ${w.next(limit)} OFFSET ${w.next(offset)}`, w.params);
  }

  async count(filter: AuditEntryFilter | null | undefined): Promise<number> {
    const w = this.where(filter);
    const [row]: Array<{ count: number }> = await this.db.query(`SELECT count(*)::int AS count FROM staff_audit a ${w.sql}`, w.params);
    return row.count;
  }

  async get(id: string): Promise<AuditEntryType | null> {
    if (!isUuid(id)) return null;
    const [row]: AuditEntryType[] = await this.db.query(`SELECT ${AUDIT_COLUMNS} FROM staff_audit a WHERE a.id = $1`, [id]);
    return row ?? null;
  }

  /**
   * The last 24 hours: open cases, and every AI attempt by how it ended. The split follows
   * the charging rules (domain/quota/settlement.ts): COMPLETED is answered and charged,
   * FAILED is never charged, BLOCKED is charged only when the output broke the rules; the
   * `charged` flag is what `ai_quota_usage` counts.
   */
  async dashboard(now = new Date()): Promise<DashboardType> {
    const since = new Date(now.getTime() - DAY_MS);
    const [[cases], [attempts], byPlanModel, failures, exhaustions] = await Promise.all([
      this.db.query(`SELECT count(*)::int AS "openCases", count(*) FILTER (WHERE teen)::int AS "openTeenCases" FROM safety_cases WHERE status = 'OPEN'`),
      this.db.query(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE status = 'COMPLETED')::int AS answered,
                count(*) FILTER (WHERE status = 'FAILED' AND NOT charged)::int AS "failedUncharged",
                count(*) FILTER (WHERE status = 'BLOCKED' AND charged)::int AS "blockedCharged",
                count(*) FILTER (WHERE status = 'BLOCKED' AND NOT charged)::int AS "blockedUncharged",
                count(*) FILTER (WHERE status = 'STREAMING')::int AS "inProgress",
                count(*) FILTER (WHERE charged)::int AS charged
           FROM model_responses WHERE created_at > $1`,
        [since],
      ),
      this.db.query(
        `SELECT plan, model, count(*)::int AS count,
                count(*) FILTER (WHERE status = 'COMPLETED')::int AS answered,
                count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
                count(*) FILTER (WHERE status = 'BLOCKED')::int AS blocked,
                count(*) FILTER (WHERE status = 'STREAMING')::int AS "inProgress"
           FROM model_responses WHERE created_at > $1 GROUP BY plan, model ORDER BY plan, model`,
        [since],
      ),
      this.db.query(
        `SELECT coalesce(status_reason, 'UNKNOWN') AS reason, count(*)::int AS count
           FROM model_responses WHERE created_at > $1 AND status = 'FAILED' GROUP BY 1 ORDER BY count DESC, reason`,
        [since],
      ),
      this.db.query(`SELECT plan, count(*)::int AS count FROM quota_exhaustions WHERE created_at > $1 GROUP BY plan ORDER BY plan`, [since]),
    ]);
    return { ...cases, since, aiAttempts: attempts, failuresByReason: failures, responsesByPlanModel: byPlanModel, exhaustionsByPlan: exhaustions };
  }

  private where(filter: AuditEntryFilter | null | undefined): Where {
    const w = new Where();
    if (!filter) return w;
    return w
      .ids(filter.ids, 'a.id')
      .maybe(filter.actorEmail?.toLowerCase(), 'a.actor_email = ?')
      .maybe(filter.action, 'a.action = ?')
      .maybe(filter.targetType, 'a.target_type = ?')
      .maybe(filter.targetId, 'a.target_id = ?');
  }
}
