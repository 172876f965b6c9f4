import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an AI reply read (issue 12, item 2): the messages that went into its request (ids,
 * seq range, count) and whether the group's custom instructions did, as JSON. Null for
 * replies stored before it was recorded, and for those that never reached the provider.
 */
export class ModelResponseContext1765100000000 implements MigrationInterface {
  name = 'ModelResponseContext1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_responses ADD COLUMN context jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_responses DROP COLUMN context`);
  }
}
