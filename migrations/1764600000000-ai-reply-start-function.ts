import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Starting a group reply in one round trip: the quota reservation of
 * `reserve_ai_response` and the STREAMING message with its MESSAGE_CREATED event, which
 * were two calls on the trigger path of every reply. Nothing is reserved in a closed
 * group, and no message is created without a unit.
 *
 * The author's row is locked first, FOR NO KEY UPDATE: reservations of one user still
 * queue behind each other, but a message send, which locks the group row and then takes
 * the author's row through the foreign key (KEY SHARE), never waits for it. So the group
 * row, locked second, never waits for a send that waits for it: no deadlock, and a reply
 * starting in a group does not hold up the group's sends while it waits for its author.
 * As in `reserve_ai_response`, each statement of this VOLATILE function reads with a fresh
 * snapshot, so the usage is read after the user's row is locked.
 *
 * Returns the usage alone when no unit is left, all NULL when the group is closed, else
 * the reservation, the usage with it, the message and the event's time.
 */
export class AiReplyStartFunction1764600000000 implements MigrationInterface {
  name = 'AiReplyStartFunction1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION start_ai_reply(
        p_user uuid, p_window_start timestamptz, p_max integer, p_now timestamptz,
        p_group uuid, p_trigger uuid, p_plan text, p_tier text, p_model text, p_route_reason text)
      RETURNS TABLE (response_id uuid, usage timestamptz[], message messages, event_at timestamptz)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_since timestamptz;
        v_usage timestamptz[];
        v_seq bigint;
        v_message messages;
        v_event_at timestamptz;
        v_id uuid;
      BEGIN
        -- A staff quota reset makes what was charged before it no longer count.
        SELECT greatest(p_window_start, coalesce(quota_reset_at, p_window_start)) INTO v_since
          FROM users WHERE id = p_user FOR NO KEY UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'user % does not exist', p_user;
        END IF;
        SELECT coalesce(array_agg(created_at ORDER BY created_at), '{}') INTO v_usage
          FROM model_responses WHERE charged_user_id = p_user AND charged AND created_at > v_since;
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

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS start_ai_reply(uuid, timestamptz, integer, timestamptz, uuid, uuid, text, text, text, text)`);
  }
}
