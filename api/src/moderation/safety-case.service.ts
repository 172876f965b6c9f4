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
