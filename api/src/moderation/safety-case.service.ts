/** Safety cases: what staff review (automatic flags, user reports, blocked AI output). */
import type { DataSource, EntityManager } from 'typeorm';

export type CaseSource = 'AUTO_FLAG' | 'USER_REPORT' | 'AI_BLOCKED' | 'AI_INPUT';

export interface OpenCaseInput {
  source: CaseSource;
  groupId: string | null;
  messageId: string | null;
  authorId: string | null;
  categories: string[];
  severity: 'low' | 'medium' | 'high';
  teen: boolean;
  excerpt: string;
  details?: Record<string, unknown>;
}

export class SafetyCaseService {
  constructor(private readonly db: DataSource) {}

  async open(input: OpenCaseInput, db: EntityManager = this.db.manager): Promise<string> {
    const [row]: Array<{ id: string }> = await db.query(
      `INSERT INTO safety_cases (source, group_id, message_id, author_id, categories, severity, teen, region, excerpt, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT region FROM users WHERE id = $4), $8, $9) RETURNING id`,
      [input.source, input.groupId, input.messageId, input.authorId, input.categories, input.severity, input.teen, input.excerpt.slice(0, 500), input.details ?? {}],
    );
    return row.id;
  }
}

export interface UserReportInput {
  reportId: string;
  messageId: string;
  groupId: string;
  authorId: string | null;
  excerpt: string;
}

/**
 * Files a user report under the message's open USER_REPORT case, opening one if there is
 * none, inside the report's transaction. The case row stays locked until commit, so
 * parallel reports of one message join one case and its count is exact.
 */
export async function fileUserReport(tx: EntityManager, input: UserReportInput): Promise<string> {
  const [c]: Array<{ id: string }> = await tx.query(
    `INSERT INTO safety_cases (source, group_id, message_id, author_id, categories, severity, teen, region, excerpt)
     VALUES ('USER_REPORT', $1, $2, $3, '{reported}', 'medium',
             coalesce((SELECT safety_profile = 'TEEN' FROM groups WHERE id = $1), false),
             (SELECT region FROM users WHERE id = $3), $4)
     ON CONFLICT (message_id) WHERE source = 'USER_REPORT' AND status = 'OPEN'
       DO UPDATE SET report_count = safety_cases.report_count
     RETURNING id`,
    [input.groupId, input.messageId, input.authorId, input.excerpt.slice(0, 500)],
  );
  await tx.query(`UPDATE message_reports SET case_id = $2, status = 'OPEN' WHERE id = $1`, [input.reportId, c.id]);
  await tx.query(`UPDATE safety_cases SET report_count = (SELECT count(*) FROM message_reports WHERE case_id = $1) WHERE id = $1`, [c.id]);
  return c.id;
}
