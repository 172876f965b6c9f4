import { MigrationInterface, QueryRunner } from 'typeorm';
import { QuotaReserveFunction1764400000000 } from './1764400000000-quota-reserve-function';
import { AiReplyStartFunction1764600000000 } from './1764600000000-ai-reply-start-function';

/**
 * What counts as used, in one place. `reserve_ai_response`, `start_ai_reply` and the
 * quota status each spelled it out: the user's charged responses inside the window, and
 * none from before a staff quota reset. `ai_quota_usage` is that rule, and all three
 * call it. PL/pgSQL, not SQL, so its plan is cached per session like its callers'.
 *
 * STABLE: it reads with its caller's snapshot. The two reserving functions are VOLATILE
 * and call it in a statement of its own after locking the user's row, so that statement,
 * and the usage it reads, still start after the lock.
 */
export class QuotaUsage1764800000000 implements MigrationInterface {
  name = 'QuotaUsage1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION ai_quota_usage(p_user uuid, p_window_start timestamptz)
      RETURNS timestamptz[]
      LANGUAGE plpgsql STABLE AS $$
      BEGIN
        -- A staff quota reset makes what was charged before it no longer count.
        RETURN (SELECT coalesce(array_agg(r.created_at ORDER BY r.created_at), '{}')
                  FROM model_responses r
                 WHERE r.charged_user_id = p_user AND r.charged
                   AND r.created_at > greatest(p_window_start, (SELECT quota_reset_at FROM users WHERE id = p_user)));
      END
      $$`);

    await q.query(`
      CREATE OR REPLACE FUNCTION reserve_ai_response(
        p_user uuid, p_window_start timestamptz, p_max integer, p_now timestamptz,
        p_group uuid, p_conversation uuid, p_trigger uuid, p_plan text, p_tier text, p_model text, p_route_reason text)
      RETURNS TABLE (response_id uuid, usage timestamptz[])
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_usage timestamptz[];
        v_id uuid;
      BEGIN
        PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'user % does not exist', p_user;
        END IF;
        v_usage := ai_quota_usage(p_user, p_window_start);
        IF cardinality(v_usage) >= p_max THEN
          RETURN QUERY SELECT NULL::uuid, v_usage;
          RETURN;
        END IF;
        INSERT INTO model_responses (group_id, conversation_id, trigger_message_id, charged_user_id, plan, tier, model, route_reason, status, created_at)
        VALUES (p_group, p_conversation, p_trigger, p_user, p_plan, p_tier, p_model, p_route_reason, 'STREAMING', p_now)
        RETURNING id INTO v_id;
        RETURN QUERY SELECT v_id, v_usage || p_now;
      END
      $$`);

    // As before, FOR NO KEY UPDATE: see the start_ai_reply migration for why.
    await q.query(`
      CREATE OR REPLACE FUNCTION start_ai_reply(
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
  }

  /** The two functions as their own migrations created them, then the usage rule goes. */
  async down(q: QueryRunner): Promise<void> {
    await new AiReplyStartFunction1764600000000().down(q);
    await new QuotaReserveFunction1764400000000().down(q);
    await new QuotaReserveFunction1764400000000().up(q);
    await new AiReplyStartFunction1764600000000().up(q);
    await q.query(`DROP FUNCTION IF EXISTS ai_quota_usage(uuid, timestamptz)`);
  }
}
