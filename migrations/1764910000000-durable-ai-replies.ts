import { MigrationInterface, QueryRunner } from 'typeorm';

const START_ARGS = 'uuid, timestamptz, integer, timestamptz, uuid, uuid, text, text, text, text';

/**
 * Durable AI replies (issue 11): replies run as `ai.respond` jobs (graphile-worker) that
 * may run more than once, and every reply in flight has a lease.
 *
 * - `service_instances`: one row per running process, its lease renewed by a heartbeat;
 *   `worker_ids` are its graphile-worker worker ids, unlocked when it is found dead.
 * - `model_responses.lease_owner`: the instance streaming the reply; `takeovers`: how
 *   often another instance took it over (the first takeover redoes it, the second ends it
 *   FAILED INTERRUPTED).
 * - One group reply per trigger message, enforced by a unique index and by
 *   `start_ai_reply`, which now does nothing (duplicate = true) when the trigger already
 *   has one: a job run twice, or two workers racing, never post or charge twice.
 */
export class DurableAiReplies1764910000000 implements MigrationInterface {
  name = 'DurableAiReplies1764910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE service_instances (
        id          uuid PRIMARY KEY,
        started_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        worker_ids  text[] NOT NULL DEFAULT '{}'
      )`);
    await q.query(`ALTER TABLE model_responses ADD COLUMN lease_owner uuid, ADD COLUMN takeovers integer NOT NULL DEFAULT 0`);
    await q.query(`CREATE UNIQUE INDEX model_responses_group_trigger_key ON model_responses (trigger_message_id) WHERE group_id IS NOT NULL AND trigger_message_id IS NOT NULL`);
    await q.query(`CREATE INDEX model_responses_streaming_idx ON model_responses (created_at) WHERE status = 'STREAMING'`);
    await q.query(`DROP FUNCTION start_ai_reply(${START_ARGS})`);
    // As in the quota-usage migration, plus the trigger check and the lease owner.
    await q.query(`
      CREATE FUNCTION start_ai_reply(
        p_user uuid, p_window_start timestamptz, p_max integer, p_now timestamptz,
        p_group uuid, p_trigger uuid, p_plan text, p_tier text, p_model text, p_route_reason text, p_owner uuid)
      RETURNS TABLE (response_id uuid, usage timestamptz[], message messages, event_at timestamptz, duplicate boolean)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_usage timestamptz[];
        v_seq bigint;
        v_message messages;
        v_event_at timestamptz;
        v_id uuid;
      BEGIN
        PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'user % does not exist', p_user;
        END IF;
        -- Read after the author's lock, which a racing start for the same trigger holds too.
        IF EXISTS (SELECT 1 FROM model_responses WHERE trigger_message_id = p_trigger AND group_id IS NOT NULL) THEN
          RETURN QUERY SELECT NULL::uuid, NULL::timestamptz[], NULL::messages, NULL::timestamptz, true;
          RETURN;
        END IF;
        v_usage := ai_quota_usage(p_user, p_window_start);
        IF cardinality(v_usage) >= p_max THEN
          RETURN QUERY SELECT NULL::uuid, v_usage, NULL::messages, NULL::timestamptz, false;
          RETURN;
        END IF;
        UPDATE groups SET last_seq = last_seq + 1, last_event_at = now() WHERE id = p_group AND closed_at IS NULL RETURNING last_seq INTO v_seq;
        IF NOT FOUND THEN
          RETURN QUERY SELECT NULL::uuid, NULL::timestamptz[], NULL::messages, NULL::timestamptz, false;
          RETURN;
        END IF;
        INSERT INTO messages (group_id, seq, kind, body, status, reply_to_id)
        VALUES (p_group, v_seq, 'AI', '', 'STREAMING', p_trigger)
        RETURNING * INTO v_message;
        INSERT INTO group_events (group_id, seq, type, message_id)
        VALUES (p_group, v_seq, 'MESSAGE_CREATED', v_message.id)
        RETURNING created_at INTO v_event_at;
        INSERT INTO model_responses (group_id, trigger_message_id, message_id, charged_user_id, plan, tier, model, route_reason, status, created_at, lease_owner)
        VALUES (p_group, p_trigger, v_message.id, p_user, p_plan, p_tier, p_model, p_route_reason, 'STREAMING', p_now, p_owner)
        RETURNING id INTO v_id;
        RETURN QUERY SELECT v_id, v_usage || p_now, v_message, v_event_at, false;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS start_ai_reply(${START_ARGS}, uuid)`);
    await q.query(`
      CREATE FUNCTION start_ai_reply(
        p_user uuid, p_window_start timestamptz, p_max integer, p_now timestamptz,
        p_group uuid, p_trigger uuid, p_plan text, p_tier text, p_model text, p_route_reason text)
      RETURNS TABLE (response_id uuid, usage timestamptz[], message messages, event_at timestamptz)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_usage timestamptz[];
        v_seq bigint;
        v_message messages;
        v_event_at timestamptz;
        v_id uuid;
      BEGIN
        PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'user % does not exist', p_user;
        END IF;
        v_usage := ai_quota_usage(p_user, p_window_start);
        IF cardinality(v_usage) >= p_max THEN
          RETURN QUERY SELECT NULL::uuid, v_usage, NULL::messages, NULL::timestamptz;
          RETURN;
        END IF;
        UPDATE groups SET last_seq = last_seq + 1, last_event_at = now() WHERE id = p_group AND closed_at IS NULL RETURNING last_seq INTO v_seq;
        IF NOT FOUND THEN
          RETURN QUERY SELECT NULL::uuid, NULL::timestamptz[], NULL::messages, NULL::timestamptz;
          RETURN;
        END IF;
        INSERT INTO messages (group_id, seq, kind, body, status, reply_to_id)
        VALUES (p_group, v_seq, 'AI', '', 'STREAMING', p_trigger)
        RETURNING * INTO v_message;
        INSERT INTO group_events (group_id, seq, type, message_id)
        VALUES (p_group, v_seq, 'MESSAGE_CREATED', v_message.id)
        RETURNING created_at INTO v_event_at;
        INSERT INTO model_responses (group_id, trigger_message_id, message_id, charged_user_id, plan, tier, model, route_reason, status, created_at)
        VALUES (p_group, p_trigger, v_message.id, p_user, p_plan, p_tier, p_model, p_route_reason, 'STREAMING', p_now)
        RETURNING id INTO v_id;
        RETURN QUERY SELECT v_id, v_usage || p_now, v_message, v_event_at;
      END
      $$`);
    await q.query(`DROP INDEX IF EXISTS model_responses_streaming_idx`);
    await q.query(`DROP INDEX IF EXISTS model_responses_group_trigger_key`);
    await q.query(`ALTER TABLE model_responses DROP COLUMN IF EXISTS takeovers, DROP COLUMN IF EXISTS lease_owner`);
    await q.query(`DROP TABLE IF EXISTS service_instances`);
  }
}
