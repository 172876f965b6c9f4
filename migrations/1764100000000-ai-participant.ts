import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The AI participant: model responses (which also carry the quota), private
 * conversations with the AI, personal memory, and safety cases.
 */
export class AiParticipant1764100000000 implements MigrationInterface {
  name = 'AiParticipant1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conversations (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid NOT NULL REFERENCES users (id),
        title      text NOT NULL DEFAULT '' CHECK (char_length(title) <= 100),
        last_seq   integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX conversations_user_idx ON conversations (user_id, updated_at DESC)`);
    await q.query(`
      CREATE TABLE conversation_messages (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq             integer NOT NULL,
        role            text NOT NULL CHECK (role IN ('USER', 'AI')),
        body            text NOT NULL,
        status          text NOT NULL CHECK (status IN ('SENT', 'COMPLETED', 'FAILED', 'BLOCKED')),
        status_reason   text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (conversation_id, seq)
      )`);

    await q.query(`
      CREATE TABLE memories (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id         uuid NOT NULL REFERENCES users (id),
        text            text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 500),
        source          text NOT NULL CHECK (source IN ('MANUAL', 'CONVERSATION')),
        conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX memories_user_idx ON memories (user_id, created_at)`);

    await q.query(`ALTER TABLE groups ADD COLUMN source_conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL`);

    // One row per AI response. Rows with charged = true inside the plan's window are the
    // quota in use: a reservation is a row inserted under the user's row lock, and a
    // failed response releases it by setting charged = false.
    await q.query(`
      CREATE TABLE model_responses (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        group_id           uuid REFERENCES groups (id) ON DELETE CASCADE,
        conversation_id    uuid REFERENCES conversations (id) ON DELETE CASCADE,
        message_id         uuid,
        trigger_message_id uuid,
        charged_user_id    uuid NOT NULL REFERENCES users (id),
        plan               text NOT NULL,
        tier               text NOT NULL CHECK (tier IN ('fast', 'reasoning', 'top')),
        model              text NOT NULL,
        route_reason       text NOT NULL,
        status             text NOT NULL CHECK (status IN ('STREAMING', 'COMPLETED', 'FAILED', 'BLOCKED')),
        status_reason      text,
        charged            boolean NOT NULL DEFAULT true,
        prompt_tokens      integer,
        completion_tokens  integer,
        latency_ms         integer,
        created_at         timestamptz NOT NULL DEFAULT now(),
        completed_at       timestamptz,
        CHECK ((group_id IS NULL) <> (conversation_id IS NULL))
      )`);
    await q.query(`CREATE INDEX model_responses_quota_idx ON model_responses (charged_user_id, created_at) WHERE charged`);
    await q.query(`CREATE INDEX model_responses_created_idx ON model_responses (created_at)`);

    // The AI stayed silent because someone's quota was used up: for the staff dashboard.
    await q.query(`
      CREATE TABLE quota_exhaustions (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid NOT NULL REFERENCES users (id),
        plan       text NOT NULL,
        group_id   uuid REFERENCES groups (id) ON DELETE CASCADE,
        resets_at  timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX quota_exhaustions_created_idx ON quota_exhaustions (created_at)`);

    await q.query(`
      CREATE TABLE safety_cases (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source          text NOT NULL CHECK (source IN ('AUTO_FLAG', 'USER_REPORT', 'AI_BLOCKED', 'AI_INPUT')),
        status          text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'DISMISSED', 'MESSAGE_REMOVED', 'AUTHOR_SUSPENDED')),
        group_id        uuid REFERENCES groups (id) ON DELETE CASCADE,
        message_id      uuid REFERENCES messages (id) ON DELETE CASCADE,
        author_id       uuid REFERENCES users (id),
        categories      text[] NOT NULL DEFAULT '{}',
        severity        text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
        teen            boolean NOT NULL,
        region          text,
        excerpt         text NOT NULL DEFAULT '',
        details         jsonb NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        decided_at      timestamptz,
        decided_by      text,
        decision_reason text
      )`);
    await q.query(`CREATE INDEX safety_cases_queue_idx ON safety_cases (status, teen DESC, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS safety_cases`);
    await q.query(`DROP TABLE IF EXISTS quota_exhaustions`);
    await q.query(`DROP TABLE IF EXISTS model_responses`);
    await q.query(`ALTER TABLE groups DROP COLUMN IF EXISTS source_conversation_id`);
    await q.query(`DROP TABLE IF EXISTS memories`);
    await q.query(`DROP TABLE IF EXISTS conversation_messages`);
    await q.query(`DROP TABLE IF EXISTS conversations`);
  }
}
