/**
 * The migration to one open case per message (1765310000000) on data written under the old
 * rules: a message with an open automatic case and an open report case is merged into one
 * case holding every source; each case gets its sources and its evidence; decided cases stay.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { createDatabase } from '../support/harness';

const MIGRATIONS = path.resolve(__dirname, '../../migrations');
const MINE = '1765310000000';

function dataSource(url: string, files: string[]): DataSource {
  return new DataSource({ type: 'postgres', url, migrations: files.map((f) => path.join(MIGRATIONS, f)), migrationsTableName: 'schema_migrations', migrationsTransactionMode: 'each' });
}

it('merges the open cases of one message into the oldest, with every source and the evidence, and keeps decided cases apart', async () => {
  const url = await createDatabase();
  const files = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.ts')).sort();
  const before = dataSource(url, files.filter((f) => f < MINE));
  await before.initialize();
  try {
    await before.runMigrations();
    const q = (sql: string, params: unknown[] = []) => before.query(sql, params);
    const [author, bob, carol] = await Promise.all(['author', 'bob', 'carol'].map(async (n) => (await q(`INSERT INTO users (subject, username) VALUES ($1, $1) RETURNING id`, [n]))[0].id));
    const [{ id: groupId }] = await q(`INSERT INTO groups (title, owner_id, safety_profile) VALUES ('Old group', $1, 'STANDARD') RETURNING id`, [author]);
    const msg = async (seq: number, body: string, status = 'SENT') =>
      (await q(`INSERT INTO messages (group_id, seq, kind, author_id, body, status) VALUES ($1, $2, 'USER', $3, $4, $5) RETURNING id`, [groupId, seq, author, body, status]))[0].id;
    const both = await msg(1, 'I will hurt you');
    const removed = await msg(2, '', 'DELETED');
    const c = async (source: string, messageId: string, extra: { status?: string; categories?: string[]; severity?: string; excerpt?: string; minutesAgo?: number } = {}) =>
      (
        await q(
          `INSERT INTO safety_cases (source, status, group_id, message_id, author_id, categories, severity, teen, excerpt, created_at, decided_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, false, $8, now() - $9 * interval '1 minute', CASE WHEN $2 <> 'OPEN' THEN now() END) RETURNING id`,
          [source, extra.status ?? 'OPEN', groupId, messageId, author, extra.categories ?? ['reported'], extra.severity ?? 'medium', extra.excerpt ?? 'I will hurt you', extra.minutesAgo ?? 0],
        )
      )[0].id;
    const report = (messageId: string, reporter: string, reason: string, caseId: string) =>
      q(`INSERT INTO message_reports (message_id, group_id, reporter_id, reason, case_id) VALUES ($1, $2, $3, $4, $5)`, [messageId, groupId, reporter, reason, caseId]);

    const auto = await c('AUTO_FLAG', both, { categories: ['violence'], severity: 'high', minutesAgo: 10 });
    const reported = await c('USER_REPORT', both, { minutesAgo: 5 });
    await report(both, bob, 'threat', reported);
    await report(both, carol, 'scary', reported);
    const decided = await c('USER_REPORT', removed, { status: 'MESSAGE_REMOVED', excerpt: 'the removed text' });
    await report(removed, bob, 'spam', decided);
  } finally {
    await before.destroy();
  }

  const after = dataSource(url, files.filter((f) => f <= `${MINE}-~`));
  await after.initialize();
  try {
    expect((await after.runMigrations()).map((m) => m.name)).toEqual(['SafetyCaseSources1765310000000']);
    const cases = await after.query(`SELECT id, source, status, categories, severity, excerpt FROM safety_cases ORDER BY created_at`);
    expect(cases).toEqual([
      expect.objectContaining({ source: 'AUTO_FLAG', status: 'OPEN', severity: 'high', categories: ['violence'] }),
      expect.objectContaining({ status: 'MESSAGE_REMOVED', excerpt: 'the removed text' }),
    ]);
    const sources = await after.query(
      `SELECT s.case_id AS "caseId", s.kind, u.username AS reporter, s.reason, s.evidence FROM safety_case_sources s LEFT JOIN users u ON u.id = s.reporter_id ORDER BY s.case_id, s.kind, u.username`,
    );
    const of = (id: string) => sources.filter((s: any) => s.caseId === id).map(({ caseId: _c, ...s }: any) => s);
    expect(of(cases[0].id)).toEqual([
      { kind: 'AUTO_FLAG', reporter: null, reason: null, evidence: 'I will hurt you' },
      { kind: 'USER_REPORT', reporter: 'bob', reason: 'threat', evidence: 'I will hurt you' },
      { kind: 'USER_REPORT', reporter: 'carol', reason: 'scary', evidence: 'I will hurt you' },
    ]);
    // The message is a tombstone already: the case's excerpt is the best evidence left.
    expect(of(cases[1].id)).toEqual([{ kind: 'USER_REPORT', reporter: 'bob', reason: 'spam', evidence: 'the removed text' }]);
    expect(await after.query(`SELECT DISTINCT case_id AS "caseId" FROM message_reports WHERE reason <> 'spam'`)).toEqual([{ caseId: cases[0].id }]);
    // From now on the database refuses a second open case for the message.
    await expect(
      after.query(`INSERT INTO safety_cases (source, message_id, severity, teen) SELECT 'USER_REPORT', message_id, 'low', false FROM safety_cases WHERE id = $1`, [cases[0].id]),
    ).rejects.toThrow(/safety_cases_open_message_idx/);
  } finally {
    await after.destroy();
  }
});
