import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A version number of the rollout rules, bumped in the transaction of every change. Each
 * check reads it (one row by key) and re-reads the rules only when it moved, so every API
 * process applies a change on its next request, with no notification to miss or wait for.
 */
export class RolloutVersion1764500000000 implements MigrationInterface {
  name = 'RolloutVersion1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollout_state (
        id      boolean PRIMARY KEY DEFAULT true CHECK (id),
        version bigint NOT NULL
      )`);
    await q.query(`INSERT INTO rollout_state (id, version) VALUES (true, 1)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS rollout_state`);
  }
}
