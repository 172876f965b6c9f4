import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts, groups, membership, invites, messages, reactions, reports and the per-group
 * event log that gives every group event its sequence number.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subject              text NOT NULL UNIQUE,
        region               text CHECK (region ~ '^[A-Z]{2}$'),
        plan                 text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'go', 'plus', 'pro')),
        age_band             text CHECK (age_band IN ('adult', 'minor')),
        parental_group_chats boolean NOT NULL DEFAULT true,
        display_name         text CHECK (char_length(display_name) BETWEEN 1 AND 50),
        username             text UNIQUE CHECK (username ~ '^[a-z0-9_.]{3,30}$'),
        photo_url            text CHECK (photo_url ~ '^https://'),
        suspended_at         timestamptz,
        suspended_reason     text,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE groups (
        id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        title               text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
        custom_instructions text NOT NULL DEFAULT '' CHECK (char_length(custom_instructions) <= 4000),
        ai_mode             text NOT NULL DEFAULT 'AUTO' CHECK (ai_mode IN ('AUTO', 'MENTIONS', 'OFF')),
        safety_profile      text NOT NULL DEFAULT 'TEEN' CHECK (safety_profile IN ('STANDARD', 'TEEN')),
        owner_id            uuid REFERENCES users (id),
        member_count        integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
        last_seq            bigint NOT NULL DEFAULT 0,
        last_event_at       timestamptz NOT NULL DEFAULT now(),
        closed_at           timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE group_members (
        group_id      uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        user_id       uuid NOT NULL REFERENCES users (id),
        role          text NOT NULL DEFAULT 'MEMBER' CHECK (role IN ('OWNER', 'MEMBER')),
        joined_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        muted_until   timestamptz,
        last_read_seq bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (group_id, user_id)
      )`);
    await q.query(`CREATE INDEX group_members_user_idx ON group_members (user_id, joined_at DESC)`);
    await q.query(`CREATE INDEX groups_activity_idx ON groups (last_event_at DESC, id DESC)`);
    await q.query(`CREATE UNIQUE INDEX group_members_one_owner ON group_members (group_id) WHERE role = 'OWNER'`);

    await q.query(`
      CREATE TABLE invites (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        token_hash  bytea NOT NULL UNIQUE,
        created_by  uuid NOT NULL REFERENCES users (id),
        expires_at  timestamptz,
        max_uses    integer CHECK (max_uses > 0),
        uses        integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
        revoked_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CHECK (max_uses IS NULL OR uses <= max_uses)
      )`);
    await q.query(`CREATE INDEX invites_group_idx ON invites (group_id) WHERE revoked_at IS NULL`);

    await q.query(`
      CREATE TABLE messages (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        group_id          uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        seq               bigint NOT NULL,
        kind              text NOT NULL CHECK (kind IN ('USER', 'AI', 'SYSTEM')),
        author_id         uuid REFERENCES users (id),
        body              text NOT NULL,
        status            text NOT NULL CHECK (status IN ('SENT', 'STREAMING', 'COMPLETED', 'FAILED', 'BLOCKED', 'HIDDEN', 'DELETED')),
        status_reason     text,
        reply_to_id       uuid REFERENCES messages (id),
        client_message_id text CHECK (char_length(client_message_id) BETWEEN 1 AND 100),
        mention_user_ids  uuid[] NOT NULL DEFAULT '{}',
        mentions_ai       boolean NOT NULL DEFAULT false,
        edited_at         timestamptz,
        deleted_at        timestamptz,
        created_at        timestamptz NOT NULL DEFAULT now(),
        UNIQUE (group_id, seq),
        CHECK (kind <> 'USER' OR author_id IS NOT NULL)
      )`);
    await q.query(`
      CREATE UNIQUE INDEX messages_idempotency_key
        ON messages (group_id, author_id, client_message_id) WHERE client_message_id IS NOT NULL`);
    await q.query(`CREATE INDEX messages_author_idx ON messages (author_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE reactions (
        message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        user_id    uuid REFERENCES users (id),
        emoji      text NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 32),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT reactions_once UNIQUE NULLS NOT DISTINCT (message_id, user_id, emoji)
      )`);

    await q.query(`
      CREATE TABLE message_reports (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        reporter_id uuid NOT NULL REFERENCES users (id),
        reason      text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
        status      text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (message_id, reporter_id)
      )`);
    await q.query(`CREATE INDEX message_reports_open_idx ON message_reports (created_at) WHERE status = 'OPEN'`);

    // The event log: one row per sequenced group event, replayed to subscribers that
    // resume with afterSeq. Message payloads are read from messages at replay time, so
    // an edited or deleted message replays in its current state.
    await q.query(`
      CREATE TABLE group_events (
        group_id        uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        seq             bigint NOT NULL,
        type            text NOT NULL,
        message_id      uuid REFERENCES messages (id) ON DELETE CASCADE,
        subject_user_id uuid REFERENCES users (id),
        actor_id        uuid REFERENCES users (id),
        data            jsonb NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['group_events', 'message_reports', 'reactions', 'messages', 'invites', 'group_members', 'groups', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
