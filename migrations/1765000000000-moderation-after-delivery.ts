import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moderation after delivery is durable (issue 11): every human message, and every edit,
 * leaves a row here in the statement that writes it; the moderation processor settles the
 * rows in batches (moderation/after-delivery.processor.ts) and deletes them, and a sweep
 * picks up what a process that died left behind. `rev` counts edits made while a row was
 * pending, so a batch that scored the old text does not settle the new one.
 *
 * No foreign key: the send path pays for the row's one index entry and nothing more; the
 * processor drops rows whose message is gone.
 */
export class ModerationAfterDelivery1765000000000 implements MigrationInterface {
  name = 'ModerationAfterDelivery1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE moderation_pending (
        message_id  uuid PRIMARY KEY,
        rev         integer NOT NULL DEFAULT 0,
        queued_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE moderation_pending`);
  }
}
