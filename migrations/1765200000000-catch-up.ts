import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "Catch me up" (issue 12, item 1): a private summary, for one member, of the messages
 * after their read position. Each request is a row, answered by an `ai.catch-up` job
 * enqueued in the statement that inserts it; the newest row per member is what they can
 * read again (Membership.lastCatchUp).
 */
export class CatchUp1765200000000 implements MigrationInterface {
  name = 'CatchUp1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE catch_ups (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        group_id      uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        user_id       uuid NOT NULL REFERENCES users (id),
        status        text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'STREAMING', 'COMPLETED', 'FAILED', 'BLOCKED')),
        status_reason text,
        body          text NOT NULL DEFAULT '',
        after_seq     bigint NOT NULL,
        from_seq      bigint,
        to_seq        bigint,
        message_count integer NOT NULL DEFAULT 0,
        response_id   uuid REFERENCES model_responses (id),
        created_at    timestamptz NOT NULL DEFAULT now(),
        completed_at  timestamptz
      )`);
    await q.query(`CREATE INDEX catch_ups_member_idx ON catch_ups (group_id, user_id, created_at DESC)`);
    // One under way per member: parallel requests start (and charge) one.
    await q.query(`CREATE UNIQUE INDEX catch_ups_one_running ON catch_ups (group_id, user_id) WHERE status IN ('PENDING', 'STREAMING')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE catch_ups`);
  }
}
