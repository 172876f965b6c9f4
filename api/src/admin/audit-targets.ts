/**
 * The current names of audit targets, batched per request: a page of entries costs one
 * query per target type on it, not one per entry. A target that no longer exists loads
 * as null (the entry then names it from what it remembers, audit-details.ts).
 */
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { isUuid } from '../groups/group.policy';

/** `${targetType}:${targetId}` */
export type TargetKey = string;

const EXCERPT = 40;

const SOURCE_WORD: Record<string, string> = { USER_REPORT: 'report', AUTO_FLAG: 'flag', AI_BLOCKED: 'blocked AI reply', AI_INPUT: 'flagged AI input' };

/** One query per type: ids → label. Types not listed here have no live name. */
const LABELS: Record<string, (db: DataSource, ids: string[]) => Promise<Array<{ id: string; label: string }>>> = {
  User: (db, ids) =>
    db.query(
      `SELECT id, CASE WHEN username IS NOT NULL THEN '@' || username WHEN display_name IS NOT NULL THEN display_name ELSE 'subject ' || subject END AS label
         FROM users WHERE id = ANY($1::uuid[])`,
      [ids],
    ),
  Group: (db, ids) => db.query(`SELECT id, title AS label FROM groups WHERE id = ANY($1::uuid[])`, [ids]),
  RolloutRule: (db, ids) => db.query(`SELECT id, feature || '/' || region || '/' || plan AS label FROM rollout_rules WHERE id = ANY($1::uuid[])`, [ids]),
  Staff: (db, ids) => db.query(`SELECT id, email AS label FROM staff_users WHERE id = ANY($1::uuid[])`, [ids]),
  SafetyCase: async (db, ids) => {
    const rows: Array<{ id: string; source: string; excerpt: string; groupTitle: string | null }> = await db.query(
      `SELECT c.id, c.source, c.excerpt, g.title AS "groupTitle" FROM safety_cases c LEFT JOIN groups g ON g.id = c.group_id WHERE c.id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map((r) => {
      const excerpt = r.excerpt.length > EXCERPT ? `${r.excerpt.slice(0, EXCERPT)}…` : r.excerpt;
      return { id: r.id, label: `${SOURCE_WORD[r.source] ?? r.source.toLowerCase()} "${excerpt}" in ${r.groupTitle ?? 'a private chat'}` };
    });
  },
};

export function targetKey(targetType: string, targetId: string | null): TargetKey | null {
  return targetId && LABELS[targetType] && isUuid(targetId) ? `${targetType}:${targetId}` : null;
}

/** A request's loader of target names: null for a target that no longer exists. */
export function createTargetLoader(db: DataSource): DataLoader<TargetKey, string | null> {
  return new DataLoader(async (keys) => {
    const byType = new Map<string, string[]>();
    for (const key of keys) {
      const [type, id] = key.split(':');
      byType.set(type, [...(byType.get(type) ?? []), id]);
    }
    const labels = new Map<TargetKey, string>();
    await Promise.all(
      [...byType].map(async ([type, ids]) => {
        for (const row of await LABELS[type](db, ids)) labels.set(`${type}:${row.id}`, row.label);
      }),
    );
    return keys.map((k) => labels.get(k) ?? null);
  });
}
