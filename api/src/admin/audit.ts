/** The staff audit log: one row per staff action, written inside the action's transaction. */
import type { EntityManager } from 'typeorm';
import { badInput } from '../errors';

export const AUDIT_ACTIONS = [
  'STAFF_CREATED',
  'SIGN_IN',
  'CASE_DISMISSED',
  'MESSAGE_REMOVED',
  'AUTHOR_SUSPENDED',
  'USER_SUSPENDED',
  'USER_UNSUSPENDED',
  'QUOTA_RESET',
  'ROLLOUT_RULE_CREATED',
  'ROLLOUT_RULE_UPDATED',
  'ROLLOUT_RULE_DELETED',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: a staff member, or a tool (the CLI) with no staff row. */
export interface AuditActor {
  actorId: string | null;
  actorEmail: string;
}

export interface AuditInput {
  action: AuditAction;
  targetType: string;
  targetId: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export async function writeAudit(tx: EntityManager, actor: AuditActor, entry: AuditInput): Promise<void> {
  await tx.query(
    `INSERT INTO staff_audit (actor_id, actor_email, action, target_type, target_id, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [actor.actorId, actor.actorEmail, entry.action, entry.targetType, entry.targetId, entry.reason ?? null, JSON.stringify(entry.details ?? {})],
  );
}

/** A staff action's reason: required, trimmed, 1–1000 characters (quota resets, suspensions, rollout changes). */
export function validReason(reason: string): string {
  const text = reason.trim();
  if (text.length < 1 || text.length > 1000 || text.includes('\u0000')) throw badInput('reason must be 1 to 1000 characters', 'reason');
  return text;
}
