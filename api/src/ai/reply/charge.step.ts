/**
 * charge: reserves one unit of the payer's quota for the reply (the chat's reservation
 * locks the payer's row, so concurrent triggers never overspend). With none left, the
 * exhaustion is recorded for staff and the payer alone is told when a unit frees up.
 */
import type { ReplyChat, ReplyRef } from './reply-chat';
import type { ReplyDeps } from './reply-deps';
import type { Decision } from './decide.step';

export type Charged<R> = { kind: 'charged'; reply: R } | { kind: 'quota_exceeded' } | { kind: 'skipped' };

export async function charge<R extends ReplyRef>(chat: ReplyChat<R>, decision: Extract<Decision, { go: true }>, d: Pick<ReplyDeps, 'quota'>): Promise<Charged<R>> {
  const reserved = await chat.reserve(decision.route, decision.model);
  if (reserved.kind === 'reserved') return { kind: 'charged', reply: reserved.reply };
  // A closed group, or a trigger that already has its reply (a job run twice): nothing to do.
  if (reserved.kind === 'skipped') return { kind: 'skipped' };
  await d.quota.recordExhaustion(chat.payer, chat.groupId, reserved.status.resetsAt);
  await chat.quotaExceeded(reserved.status);
  return { kind: 'quota_exceeded' };
}
