import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every event of a group updates its row (`last_seq`, `last_event_at`): the hottest
 * update in the system. `groups_activity_idx` indexed `last_event_at`, so none of those
 * updates could be HOT: each one added entries to both of the table's indexes and left
 * them to vacuum. No query used it: a user's groups are listed through their memberships
 * (`group_members_user_idx`) and sorted there. Without it, and with room left on each
 * page, the update stays on its page and touches no index.
 */
export class GroupsHotUpdates1764700000000 implements MigrationInterface {
  name = 'GroupsHotUpdates1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS groups_activity_idx`);
    await q.query(`ALTER TABLE groups SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE groups RESET (fillfactor)`);
    await q.query(`CREATE INDEX groups_activity_idx ON groups (last_event_at DESC, id DESC)`);
  }
}
