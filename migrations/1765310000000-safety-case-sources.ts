import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A safety review staff can trust (issue 12, item 4):
 *
 * - One message has at most one OPEN case, whatever raised it: a unique index on
 *   `message_id` among open cases, which the code writes through with INSERT … ON CONFLICT,
 *   so parallel reports and an automatic flag racing them end in one case.
 * - Each thing that raised or joined a case is a row of `safety_case_sources`: its kind,
 *   the reporter and reason of a user report, when it came, and the message text as that
 *   source saw it (`evidence`, staff only). A member's deletion or a staff removal blanks the
 *   message, never the evidence; the evidence job (moderation/evidence-retention.ts) purges
 *   it from decided cases after SAFETY_EVIDENCE_RETENTION_DAYS and stamps `evidence_purged_at`.
 * - `report_count` goes: the count is the case's USER_REPORT sources.
 *
 * Existing data: every case gets its sources (one per report filed under it, or one of the
 * case's own kind), with the text still stored (the message's live text, else the excerpt);
 * open cases of one message are merged into the oldest.
 */
export class SafetyCaseSources1765310000000 implements MigrationInterface {
  name = 'SafetyCaseSources1765310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE safety_case_sources (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id     uuid NOT NULL REFERENCES safety_cases (id) ON DELETE CASCADE,
        kind        text NOT NULL CHECK (kind IN ('AUTO_FLAG', 'USER_REPORT', 'AI_BLOCKED', 'AI_INPUT')),
        reporter_id uuid REFERENCES users (id),
        reason      text,
        evidence    text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'USER_REPORT') = (reporter_id IS NOT NULL))
      )`);
    // A reporter counts once per case; every other kind joins a case once.
    await q.query(`CREATE UNIQUE INDEX safety_case_sources_reporter_idx ON safety_case_sources (case_id, reporter_id) WHERE kind = 'USER_REPORT'`);
    await q.query(`CREATE UNIQUE INDEX safety_case_sources_kind_idx ON safety_case_sources (case_id, kind) WHERE kind <> 'USER_REPORT'`);
    // A case's sources in order (the case page, the first source's evidence in the queue).
    await q.query(`CREATE INDEX safety_case_sources_case_idx ON safety_case_sources (case_id, created_at)`);
    await q.query(`ALTER TABLE safety_cases ADD COLUMN evidence_purged_at timestamptz`);

    // Sources of the cases there are: the reports filed under each, else the case's own kind.
    await q.query(`
      INSERT INTO safety_case_sources (case_id, kind, reporter_id, reason, evidence, created_at)
      SELECT c.id, 'USER_REPORT', r.reporter_id, r.reason,
             CASE WHEN m.status = 'DELETED' OR m.body IS NULL OR m.body = '' THEN c.excerpt ELSE m.body END, r.created_at
        FROM message_reports r JOIN safety_cases c ON c.id = r.case_id LEFT JOIN messages m ON m.id = c.message_id`);
    await q.query(`
      INSERT INTO safety_case_sources (case_id, kind, evidence, created_at)
      SELECT c.id, c.source,
             CASE WHEN m.status = 'DELETED' OR m.body IS NULL OR m.body = '' THEN c.excerpt ELSE m.body END, c.created_at
        FROM safety_cases c LEFT JOIN messages m ON m.id = c.message_id
       WHERE c.source <> 'USER_REPORT'`);

    // Open cases sharing a message fold into the oldest: its sources, reports, categories, severity.
    await q.query(`
      CREATE TEMP TABLE case_merge AS
      SELECT c.id AS dup, first_value(c.id) OVER (PARTITION BY c.message_id ORDER BY c.created_at, c.id) AS keep
        FROM safety_cases c WHERE c.status = 'OPEN' AND c.message_id IS NOT NULL`);
    await q.query(`DELETE FROM case_merge WHERE dup = keep`);
    await q.query(`
      UPDATE safety_cases k SET
        -- A report's placeholder category gives way to real ones, as when a flag joins a report at run time.
        categories = coalesce((SELECT CASE WHEN count(DISTINCT cat) > 1 THEN array_remove(array_agg(DISTINCT cat), 'reported') ELSE array_agg(DISTINCT cat) END
                        FROM safety_cases c, unnest(c.categories) cat
                       WHERE c.id = k.id OR c.id IN (SELECT dup FROM case_merge WHERE keep = k.id)), '{}'),
        severity = (SELECT CASE max(CASE c.severity WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END) WHEN 2 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END
                      FROM safety_cases c WHERE c.id = k.id OR c.id IN (SELECT dup FROM case_merge WHERE keep = k.id)),
        teen = k.teen OR EXISTS (SELECT 1 FROM safety_cases c JOIN case_merge x ON x.dup = c.id WHERE x.keep = k.id AND c.teen)
       WHERE k.id IN (SELECT keep FROM case_merge)`);
    // A source the kept case already has (the same reporter, a second automatic flag) is dropped with its case.
    await q.query(`
      UPDATE safety_case_sources s SET case_id = x.keep FROM case_merge x
       WHERE s.case_id = x.dup
         AND s.id IN (SELECT DISTINCT ON (x2.keep, s2.kind, s2.reporter_id) s2.id
                        FROM safety_case_sources s2 JOIN case_merge x2 ON x2.dup = s2.case_id
                       ORDER BY x2.keep, s2.kind, s2.reporter_id, s2.created_at)
         AND NOT EXISTS (SELECT 1 FROM safety_case_sources o WHERE o.case_id = x.keep AND o.kind = s.kind
                          AND (s.kind <> 'USER_REPORT' OR o.reporter_id = s.reporter_id))`);
    await q.query(`UPDATE message_reports r SET case_id = x.keep FROM case_merge x WHERE r.case_id = x.dup`);
    await q.query(`DELETE FROM safety_cases WHERE id IN (SELECT dup FROM case_merge)`);
    await q.query(`DROP TABLE case_merge`);

    await q.query(`DROP INDEX safety_cases_open_report_idx`);
    await q.query(`CREATE UNIQUE INDEX safety_cases_open_message_idx ON safety_cases (message_id) WHERE status = 'OPEN'`);
    // Whether a message was ever flagged automatically, and the retention job's scan.
    await q.query(`CREATE INDEX safety_cases_message_idx ON safety_cases (message_id)`);
    await q.query(`CREATE INDEX safety_cases_evidence_due_idx ON safety_cases (decided_at) WHERE evidence_purged_at IS NULL AND status <> 'OPEN'`);
    await q.query(`ALTER TABLE safety_cases DROP COLUMN report_count`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE safety_cases ADD COLUMN report_count integer NOT NULL DEFAULT 0`);
    await q.query(`UPDATE safety_cases c SET report_count = (SELECT count(*) FROM safety_case_sources s WHERE s.case_id = c.id AND s.kind = 'USER_REPORT')`);
    await q.query(`DROP INDEX IF EXISTS safety_cases_evidence_due_idx`);
    await q.query(`DROP INDEX IF EXISTS safety_cases_message_idx`);
    await q.query(`DROP INDEX IF EXISTS safety_cases_open_message_idx`);
    await q.query(`CREATE UNIQUE INDEX safety_cases_open_report_idx ON safety_cases (message_id) WHERE source = 'USER_REPORT' AND status = 'OPEN'`);
    await q.query(`ALTER TABLE safety_cases DROP COLUMN evidence_purged_at`);
    await q.query(`DROP TABLE safety_case_sources`);
  }
}
