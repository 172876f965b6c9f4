/**
 * The safety review queue (docs/product.md §8): listing cases, showing one with its message
 * in context, and deciding it. Staff reach group content only through here.
 */
import type { DataSource } from 'typeorm';
import type { Config } from '../config/env';
import { unitOfWork } from '../db/unit-of-work';
import type { EventBus } from '../events/event-bus';
import type { EventPublisher } from '../events/event-publisher';
import { badInput, notFound } from '../errors';
import { isUuid } from '../groups/group.policy';
import type { MessageService } from '../messages/message.service';
import { AuditActor, AuditAction, writeAudit } from './audit';
import { likePattern, ListArgs, orderBy, pageOf, Where } from './list-query';
import { CaseDecisionEnum, CaseMessageType, CaseSourceType, SafetyCaseFilter, SafetyCaseType } from './safety-case.type';

const CASE_COLUMNS = `c.id, c.source, c.status, c.categories, c.categories[1] AS category, c.severity, c.teen, c.region, c.excerpt,
  c.group_id AS "groupId", g.title AS "groupTitle", c.message_id AS "messageId", c.author_id AS "authorId",
  (SELECT count(*)::int FROM safety_case_sources s WHERE s.case_id = c.id AND s.kind = 'USER_REPORT') AS "reportCount",
  coalesce((SELECT array_agg(s.reason ORDER BY s.created_at, s.id) FROM safety_case_sources s WHERE s.case_id = c.id AND s.kind = 'USER_REPORT'), '{}') AS "reportReasons",
  (SELECT s.evidence FROM safety_case_sources s WHERE s.case_id = c.id ORDER BY s.created_at, s.id LIMIT 1) AS evidence,
  c.evidence_purged_at AS "evidencePurgedAt",
  c.created_at AS "createdAt", c.decided_at AS "decidedAt", c.decided_by AS "decidedBy", c.decision_reason AS "decisionReason"`;

const SEVERITY_RANK = `CASE c.severity WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END`;
/** priority: teen cases first, then the most severe, then the oldest. */
const SORT_FIELDS: Record<string, string[]> = {
  priority: ['c.teen DESC', `${SEVERITY_RANK} DESC`, 'c.created_at ASC'],
  createdAt: ['c.created_at ASC'],
  severity: [`${SEVERITY_RANK} ASC`],
  status: ['c.status ASC'],
};

const OUTCOME: Record<CaseDecisionEnum, { status: string; action: AuditAction }> = {
  [CaseDecisionEnum.DISMISS]: { status: 'DISMISSED', action: 'CASE_DISMISSED' },
  [CaseDecisionEnum.REMOVE_MESSAGE]: { status: 'MESSAGE_REMOVED', action: 'MESSAGE_REMOVED' },
  [CaseDecisionEnum.SUSPEND_AUTHOR]: { status: 'AUTHOR_SUSPENDED', action: 'AUTHOR_SUSPENDED' },
};

const CONTEXT_SPAN = 3;

export class CaseReviewService {
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly messages: MessageService,
    private readonly publisher: EventPublisher,
    private readonly bus: EventBus,
  ) {}

  async list(args: ListArgs, filter: SafetyCaseFilter | null | undefined): Promise<SafetyCaseType[]> {
    const where = this.where(filter);
    const { limit, offset } = pageOf(args);
    const order = orderBy(args, SORT_FIELDS, { field: 'priority', order: 'ASC' }, 'c.id');
    return this.db.query(
      `SELECT ${CASE_COLUMNS} FROM safety_cases c LEFT JOIN groups g ON g.id = c.group_id ${where.sql}
        ORDER BY ${order} LIMIT ${where.next(limit)} OFFSET ${where.next(offset)}`,
      where.params,
    );
  }

  async count(filter: SafetyCaseFilter | null | undefined): Promise<number> {
    const where = this.where(filter);
    const [row]: Array<{ count: number }> = await this.db.query(`SELECT count(*)::int AS count FROM safety_cases c ${where.sql}`, where.params);
    return row.count;
  }

  async get(id: string): Promise<SafetyCaseType | null> {
    if (!isUuid(id)) return null;
    const [row]: SafetyCaseType[] = await this.db.query(`SELECT ${CASE_COLUMNS} FROM safety_cases c LEFT JOIN groups g ON g.id = c.group_id WHERE c.id = $1`, [id]);
    return row ?? null;
  }

  /** What raised the case and what joined it, oldest first, each with the text it saw (null once purged). */
  sources(c: Pick<SafetyCaseType, 'id' | 'status'>): Promise<CaseSourceType[]> {
    const settled = c.status !== 'OPEN';
    return this.db.query(
      `SELECT s.id, s.kind, s.reporter_id AS "reporterId", u.username AS "reporterUsername", s.reason, s.evidence, s.created_at AS "createdAt",
              $2::boolean AS settled, CASE WHEN $2 THEN $3 END AS decision
         FROM safety_case_sources s LEFT JOIN users u ON u.id = s.reporter_id
        WHERE s.case_id = $1
        ORDER BY s.created_at, s.id`,
      [c.id, settled, c.status],
    );
  }

  /** The flagged message and up to three messages either side of it, by seq. */
  async context(c: Pick<SafetyCaseType, 'messageId'>): Promise<CaseMessageType[]> {
    if (!c.messageId) return [];
    const rows: Array<Omit<CaseMessageType, 'authorName' | 'flagged'> & { status: string; displayName: string | null; username: string | null }> = await this.db.query(
      `SELECT m.id, m.seq::int AS seq, m.kind, m.author_id AS "authorId", m.body, m.status, m.created_at AS "createdAt",
              u.display_name AS "displayName", u.username
         FROM messages f
         JOIN messages m ON m.group_id = f.group_id AND m.seq BETWEEN f.seq - $2 AND f.seq + $2
         LEFT JOIN users u ON u.id = m.author_id
        WHERE f.id = $1
        ORDER BY m.seq`,
      [c.messageId, CONTEXT_SPAN],
    );
    return rows.map(({ status, displayName, username, ...m }) => ({
      ...m,
      authorName: m.kind === 'AI' ? this.config.aiName : m.kind === 'SYSTEM' ? 'System' : displayName ?? username ?? 'Unknown',
      deleted: status === 'DELETED',
      hidden: status === 'HIDDEN' || status === 'BLOCKED',
      body: status === 'DELETED' ? null : m.body,
      flagged: m.id === c.messageId,
    }));
  }

  /**
   * Decides an open case. The case row is locked first, so of concurrent decisions
   * exactly one applies; the others find it decided (BAD_USER_INPUT). The decision,
   * its effect and the audit entry commit together; what members see change (a removal,
   * or a message hidden for review shown again) is published after, then a suspended
   * author's sockets close.
   */
  async decide(id: string, decision: CaseDecisionEnum, rawReason: string, actor: AuditActor): Promise<SafetyCaseType> {
    const reason = rawReason.trim();
    if (reason.length < 1 || reason.length > 1000 || reason.includes('\u0000')) throw badInput('reason must be 1 to 1000 characters', 'reason');
    if (!isUuid(id)) throw notFound('Safety case');
    const outcome = OUTCOME[decision];
    await unitOfWork(this.db, this.publisher, async (uow) => {
      const { tx } = uow;
      // The group before the case, the order a flag joining the case takes them in
      // (moderation/after-delivery.processor.ts): a decision and a flag never deadlock.
      await tx.query(`SELECT 1 FROM groups WHERE id = (SELECT group_id FROM safety_cases WHERE id = $1) FOR UPDATE`, [id]);
      const [c]: Array<{ status: string; messageId: string | null; authorId: string | null }> = await tx.query(
        `SELECT status, message_id AS "messageId", author_id AS "authorId" FROM safety_cases WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!c) throw notFound('Safety case');
      if (c.status !== 'OPEN') throw badInput(`This case was decided already (${c.status})`, 'id');
      // Moderation hides some messages until review; a dismissal lets members see them again.
      if (decision === CaseDecisionEnum.DISMISS && c.messageId) await this.messages.restoreByStaff(uow, c.messageId);
      if (decision === CaseDecisionEnum.REMOVE_MESSAGE) {
        if (!c.messageId) throw badInput('This case has no message to remove', 'decision');
        await this.messages.removeByStaff(uow, c.messageId);
      }
      if (decision === CaseDecisionEnum.SUSPEND_AUTHOR) {
        if (!c.authorId) throw badInput('This case has no author to suspend', 'decision');
        // An earlier suspension keeps its time and reason.
        await tx.query(
          `UPDATE users SET suspended_at = coalesce(suspended_at, now()), suspended_reason = coalesce(suspended_reason, $2), updated_at = now() WHERE id = $1`,
          [c.authorId, reason],
        );
        const authorId = c.authorId;
        // The author's open sockets, in every process, close (graphql/ws-session.ts).
        uow.afterCommit('close suspended sockets', () => this.bus.publishControl({ type: 'user-suspended', userId: authorId }));
      }
      await tx.query(
        `UPDATE safety_cases SET status = $2, decided_at = now(), decided_by = $3, decision_reason = $4 WHERE id = $1`,
        [id, outcome.status, actor.actorEmail, reason],
      );
      // Every source is settled with the case (sources read their state from it); the reports members filed are resolved.
      await tx.query(`UPDATE message_reports SET status = 'RESOLVED' WHERE case_id = $1`, [id]);
      await writeAudit(tx, actor, {
        action: outcome.action,
        targetType: 'SafetyCase',
        targetId: id,
        reason,
        details: { decision, messageId: c.messageId, authorId: c.authorId },
      });
    });
    return (await this.get(id))!;
  }

  private where(filter: SafetyCaseFilter | null | undefined): Where {
    const w = new Where();
    if (!filter) return w;
    w.ids(filter.ids, 'c.id')
      .maybe(filter.status, 'c.status = ?')
      // A merged case is found under each of its sources.
      .maybe(filter.source, 'EXISTS (SELECT 1 FROM safety_case_sources s WHERE s.case_id = c.id AND s.kind = ?)')
      .maybe(filter.region, 'c.region = ?')
      .maybe(filter.teen, 'c.teen = ?')
      .maybe(filter.category, '? = ANY(c.categories)');
    if (filter.q) w.add(`c.excerpt ILIKE ?`, likePattern(filter.q));
    return w;
  }
}
