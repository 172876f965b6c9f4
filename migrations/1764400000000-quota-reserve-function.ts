import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reserving a unit of AI quota in one round trip. The reservation must lock the user's
 * row, read the usage inside the window and insert only if a unit is left; a single SQL
 * statement cannot do that (its snapshot predates the lock, so it would miss a reservation
 * committed while it waited). A VOLATILE PL/pgSQL function takes a fresh snapshot per
 * statement, so it keeps the lock-then-read order of the transaction it replaces: one call
 * instead of BEGIN, lock, read, insert, read, COMMIT on the trigger path of every reply.
 */
export class QuotaReserveFunction1764400000000 implements MigrationInterface {
  name = 'QuotaReserveFunction1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION reserve_ai_response(
        p_user uuid, p_window_start timestamptz, p_max integer, p_now timestamptz,
        p_group uuid, p_conversation uuid, p_trigger uuid, p_plan text, p_tier text, p_model text, p_route_reason text)
      RETURNS TABLE (response_id uuid, usage timestamptz[])
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_since timestamptz;
        v_usage timestamptz[];
        v_id uuid;
      BEGIN
        -- A staff quota reset makes what was charged before it no longer count.
        SELECT greatest(p_window_start, coalesce(quota_reset_at, p_window_start)) INTO v_since
          FROM users WHERE id = p_user FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'user % does not exist', p_user;
        END IF;
        SELECT coalesce(array_agg(created_at ORDER BY created_at), '{}') INTO v_usage
          FROM model_responses WHERE charged_user_id = p_user AND charged AND created_at > v_since;
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reserve_ai_response(uuid, timestamptz, integer, timestamptz, uuid, uuid, uuid, text, text, text, text)`);
  }
}
