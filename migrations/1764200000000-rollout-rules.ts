import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollout rules by feature, region and plan, and the audit trail of every change to
 * them. Seeds worldwide rules so a fresh install has group chats and the AI for everyone:
 * with no rule a feature is off (the evaluation fails closed).
 */
export class RolloutRules1764200000000 implements MigrationInterface {
  name = 'RolloutRules1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollout_rules (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        feature    text NOT NULL CHECK (feature IN ('group_chats', 'group_chats_ai')),
        region     text NOT NULL CHECK (region = '*' OR region ~ '^[A-Z]{2}$'),
        plan       text NOT NULL CHECK (plan IN ('*', 'free', 'go', 'plus', 'pro')),
        enabled    boolean NOT NULL,
        percentage integer NOT NULL CHECK (percentage BETWEEN 0 AND 100),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        UNIQUE (feature, region, plan)
      )`);

    // No foreign key to the rule: the trail outlives a deleted rule.
    await q.query(`
      CREATE TABLE rollout_audit (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        rule_id    uuid NOT NULL,
        feature    text NOT NULL,
        region     text NOT NULL,
        plan       text NOT NULL,
        action     text NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'DELETE')),
        before     jsonb,
        after      jsonb,
        actor      text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((action = 'CREATE') = (before IS NULL) AND (action = 'DELETE') = (after IS NULL))
      )`);
    await q.query(`CREATE INDEX rollout_audit_created_idx ON rollout_audit (created_at DESC)`);
    await q.query(`CREATE INDEX rollout_audit_rule_idx ON rollout_audit (rule_id, created_at)`);

    await q.query(`
      WITH seeded AS (
        INSERT INTO rollout_rules (feature, region, plan, enabled, percentage, updated_by)
        VALUES ('group_chats', '*', '*', true, 100, 'migration'), ('group_chats_ai', '*', '*', true, 100, 'migration')
        RETURNING *)
      INSERT INTO rollout_audit (rule_id, feature, region, plan, action, before, after, actor)
      SELECT id, feature, region, plan, 'CREATE', NULL,
             jsonb_build_object('id', id, 'feature', feature, 'region', region, 'plan', plan, 'enabled', enabled,
                                'percentage', percentage, 'updatedAt', updated_at, 'updatedBy', updated_by),
             'migration'
        FROM seeded`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS rollout_audit`);
    await q.query(`DROP TABLE IF EXISTS rollout_rules`);
  }
}
