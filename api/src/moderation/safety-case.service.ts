/**
 * Safety cases: what staff review (automatic flags, user reports, blocked AI output).
 *
 * One message has at most one OPEN case (docs/product.md §6): whatever raises a case on a
 * message that already has one joins it as another source. The database holds the rule (a
 * unique index on `message_id` among open cases) and the case is written with INSERT …
 * ON CONFLICT, so parallel reports, or a report racing the automatic flag, end in one case.
 * Each source keeps the message text it saw (`evidence`, staff only): removing the message
 * later blanks the thread, not the case.
 */
import type { DataSource, EntityManager } from 'typeorm';

export type CaseSource = 'AUTO_FLAG' | 'USER_REPORT' | 'AI_BLOCKED' | 'AI_INPUT';
type Severity = 'low' | 'medium' | 'high';

export interface OpenCaseInput {
  source: CaseSource;
  groupId: string | null;
  messageId: string | null;
  authorId: string | null;
  categories: string[];
  severity: Severity;
  teen: boolean;
  /** The content the case is about, as this source saw it: kept as the evidence. */
  excerpt: string;
  details?: Record<string, unknown>;
}

export interface UserReportInput {
  reportId: string;
  reporterId: string;
  reason: string;
  messageId: string;
  groupId: string;
  authorId: string | null;
  /** The message's text when it was reported. */
  body: string;
}

/** How a user report is filed: its case, and whether that reporter was already a source of it. */
export interface FiledReport {
  caseId: string;
  repeated: boolean;
}

const SEVERITY_RANK = (s: string) => `CASE ${s} WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END`;

/**
 * Opens the message's case or joins its open one, and returns the case id. On joining, the
 * case takes the higher severity, the new categories (a report's placeholder `reported`
 * gives way to real ones), TEEN if either says so, and the new details on top.
 */
async function openOrJoin(tx: EntityManager, input: OpenCaseInput): Promise<string> {
  const [c]: Array<{ id: string }> = await tx.query(
    `INSERT INTO safety_cases (source, group_id, message_id, author_id, categories, severity, teen, region, excerpt, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT region FROM users WHERE id = $4), $8, $9)
     ON CONFLICT (message_id) WHERE status = 'OPEN' DO UPDATE SET
       categories = CASE
         WHEN safety_cases.categories = '{reported}' THEN EXCLUDED.categories
         WHEN EXCLUDED.categories = '{reported}' THEN safety_cases.categories
         ELSE safety_cases.categories || ARRAY(SELECT unnest(EXCLUDED.categories) EXCEPT SELECT unnest(safety_cases.categories)) END,
       severity = CASE WHEN ${SEVERITY_RANK('EXCLUDED.severity')} > ${SEVERITY_RANK('safety_cases.severity')} THEN EXCLUDED.severity ELSE safety_cases.severity END,
       teen = safety_cases.teen OR EXCLUDED.teen,
       details = safety_cases.details || EXCLUDED.details
     RETURNING id`,
    [input.source, input.groupId, input.messageId, input.authorId, input.categories, input.severity, input.teen, input.excerpt.slice(0, 500), input.details ?? {}],
  );
  return c.id;
}

export class SafetyCaseService {
  constructor(private readonly db: DataSource) {}

  /**
   * Opens a case, or joins the message's open case as a source of `input.source`; a source
   * of that kind already on the case is not added twice. Returns the case id.
   */
  async open(input: OpenCaseInput, db?: EntityManager): Promise<string> {
    if (!db) return this.db.transaction((tx) => this.open(input, tx));
    const caseId = await openOrJoin(db, input);
    await db.query(
      `INSERT INTO safety_case_sources (case_id, kind, evidence) VALUES ($1, $2, $3)
       ON CONFLICT (case_id, kind) WHERE kind <> 'USER_REPORT' DO NOTHING`,
      [caseId, input.source, input.excerpt],
    );
    return caseId;
  }
}

/**
 * Files a user report under the message's open case (automatic or reported), opening one if
 * there is none, inside the report's transaction. The case row stays locked until commit, so
 * parallel reports of one message join one case. A reporter who reports the same message
 * again while its case is open stays one source, with their first reason and evidence: the
 * repeat changes nothing. After a decision, their next report opens a new case.
 */
export async function fileUserReport(tx: EntityManager, input: UserReportInput): Promise<FiledReport> {
  const caseId = await openOrJoin(tx, {
    source: 'USER_REPORT',
    groupId: input.groupId,
    messageId: input.messageId,
    authorId: input.authorId,
    categories: ['reported'],
    severity: 'medium',
    teen: (await tx.query(`SELECT safety_profile = 'TEEN' AS teen FROM groups WHERE id = $1`, [input.groupId]))[0]?.teen ?? false,
    excerpt: input.body,
  });
  const added: unknown[] = await tx.query(
    `INSERT INTO safety_case_sources (case_id, kind, reporter_id, reason, evidence) VALUES ($1, 'USER_REPORT', $2, $3, $4)
     ON CONFLICT (case_id, reporter_id) WHERE kind = 'USER_REPORT' DO NOTHING RETURNING 1`,
    [caseId, input.reporterId, input.reason, input.body],
  );
  await tx.query(`UPDATE message_reports SET case_id = $2, status = 'OPEN' WHERE id = $1`, [input.reportId, caseId]);
  return { caseId, repeated: added.length === 0 };
}
