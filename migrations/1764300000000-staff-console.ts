import { MigrationInterface, QueryRunner } from 'typeorm';

/** Staff accounts, their audit log and sign-in throttling; quota resets; one open report case per message. */
export class StaffConsole1764300000000 implements MigrationInterface {
  name = 'StaffConsole1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE staff_users (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email           text NOT NULL UNIQUE CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
        password_hash   text NOT NULL,
        role            text NOT NULL CHECK (role IN ('admin', 'moderator')),
        created_at      timestamptz NOT NULL DEFAULT now(),
        last_sign_in_at timestamptz,
        disabled_at     timestamptz
      )`);

    // actor_email is kept beside actor_id so entries stay readable after a staff row goes.
    await q.query(`
      CREATE TABLE staff_audit (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        actor_id    uuid REFERENCES staff_users (id) ON DELETE SET NULL,
        actor_email text NOT NULL,
        action      text NOT NULL,
        target_type text NOT NULL,
        target_id   text,
        reason      text,
        details     jsonb NOT NULL DEFAULT '{}',
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX staff_audit_created_idx ON staff_audit (created_at DESC)`);
    await q.query(`CREATE INDEX staff_audit_target_idx ON staff_audit (target_type, target_id, created_at DESC)`);

    // Every attempt is a row inserted before the password is checked, so parallel attempts
    // see each other (see SignInThrottle); a success is marked afterwards.
    await q.query(`
      CREATE TABLE staff_sign_in_attempts (
        id         bigserial PRIMARY KEY,
        email      text NOT NULL,
        ip         text NOT NULL,
        succeeded  boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX staff_sign_in_email_idx ON staff_sign_in_attempts (email, created_at) WHERE NOT succeeded`);
    await q.query(`CREATE INDEX staff_sign_in_ip_idx ON staff_sign_in_attempts (ip, created_at) WHERE NOT succeeded`);

    // Charged responses before this instant no longer count toward the user's quota.
    await q.query(`ALTER TABLE users ADD COLUMN quota_reset_at timestamptz`);

    await q.query(`ALTER TABLE safety_cases ADD COLUMN report_count integer NOT NULL DEFAULT 0`);
    await q.query(`CREATE UNIQUE INDEX safety_cases_open_report_idx ON safety_cases (message_id) WHERE source = 'USER_REPORT' AND status = 'OPEN'`);
    await q.query(`ALTER TABLE message_reports ADD COLUMN case_id uuid REFERENCES safety_cases (id) ON DELETE SET NULL`);
    await q.query(`CREATE INDEX message_reports_case_idx ON message_reports (case_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message_reports DROP COLUMN IF EXISTS case_id`);
    await q.query(`DROP INDEX IF EXISTS safety_cases_open_report_idx`);
    await q.query(`ALTER TABLE safety_cases DROP COLUMN IF EXISTS report_count`);
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS quota_reset_at`);
    await q.query(`DROP TABLE IF EXISTS staff_sign_in_attempts`);
    await q.query(`DROP TABLE IF EXISTS staff_audit`);
    await q.query(`DROP TABLE IF EXISTS staff_users`);
  }
}
