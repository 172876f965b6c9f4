/**
 * Evidence retention (docs/product.md §8): a decided safety case keeps the message text it
 * holds as evidence for SAFETY_EVIDENCE_RETENTION_DAYS after its decision; then this job
 * blanks it (every source's `evidence`, and the case's excerpt) and stamps
 * `evidence_purged_at`, so the console can say why the text is gone. Open cases are never
 * purged, however old.
 *
 * A graphile-worker cron item schedules it hourly; graphile-worker's known-crontab
 * bookkeeping makes each hour's run one job whichever instances are up, and any instance
 * running jobs may take it. Idempotent: a purged case is skipped, and cases are taken in
 * batches with SKIP LOCKED, so two runs at once neither wait for nor repeat each other.
 */
import type { DataSource } from 'typeorm';
import type { CronItem } from 'graphile-worker';

export const PURGE_EVIDENCE_TASK = 'safety.purge-evidence';

/** Every hour, at minute 17 (off the hour, when other hourly work tends to run). */
export const PURGE_EVIDENCE_CRON: CronItem = {
  task: PURGE_EVIDENCE_TASK,
  match: '17 * * * *',
  identifier: PURGE_EVIDENCE_TASK,
  options: { backfillPeriod: 0, maxAttempts: 5, jobKey: PURGE_EVIDENCE_TASK },
};

const BATCH = 500;

/** Purges the evidence of cases decided more than `retentionDays` ago; resolves with how many cases it purged. */
export async function purgeExpiredEvidence(db: DataSource, retentionDays: number): Promise<number> {
  let purged = 0;
  for (;;) {
    const [row]: Array<{ n: number }> = await db.query(
      `WITH due AS (
         SELECT id FROM safety_cases
          WHERE status <> 'OPEN' AND evidence_purged_at IS NULL AND decided_at < now() - make_interval(days => $1)
          ORDER BY decided_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED),
       cases AS (UPDATE safety_cases c SET evidence_purged_at = now(), excerpt = '' FROM due WHERE c.id = due.id RETURNING c.id),
       sources AS (UPDATE safety_case_sources s SET evidence = NULL FROM cases WHERE s.case_id = cases.id RETURNING 1)
       SELECT (SELECT count(*)::int FROM cases) AS n, (SELECT count(*) FROM sources) AS sources`,
      [retentionDays],
    );
    purged += row.n;
    if (row.n < BATCH) return purged;
  }
}
