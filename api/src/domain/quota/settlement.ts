/**
 * Who pays for an AI reply, and whether a reply's outcome costs them its unit (docs/product.md
 * §4). Pure: the groups' and the private chats' replies settle by these two functions,
 * so the two paths cannot drift apart again.
 */

/** How a reply ended, as the message and its model response record it. */
export type ReplyOutcome =
  | { status: 'COMPLETED' }
  | { status: 'BLOCKED'; reason: BlockReason }
  | { status: 'FAILED'; reason: FailureReason };

/** Why a reply was withheld by the safety checks. */
export const BLOCK_REASONS = ['CONTENT_BLOCKED', 'INPUT_BLOCKED', 'MODERATION_UNAVAILABLE'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

/** Why a reply failed. */
export const FAILURE_REASONS = [
  'PROVIDER_ERROR',
  'TIMEOUT',
  'CANCELLED',
  'PROVIDER_NOT_CONFIGURED',
  'EMPTY_RESPONSE',
  'MODERATION_UNAVAILABLE',
  'INTERRUPTED',
  'QUOTA_EXCEEDED',
  'INPUT_BLOCKED',
  'INTERNAL',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** CHARGED: the reservation's unit stays used. FREE: it is given back (or was never taken). */
export type Settlement = 'CHARGED' | 'FREE';

/**
 * Whether an outcome costs the payer their unit.
 *
 * - COMPLETED is charged: the person got their answer.
 * - BLOCKED because the model's output broke the safety rules (CONTENT_BLOCKED) is
 *   charged: the provider did the work, and a free retry would make probing for blocked
 *   output cost nothing.
 * - Every FAILED reply is free: "a response that fails is not charged" (§4). That includes
 *   EMPTY_RESPONSE (the provider answered with no text: the person got nothing, so it
 *   fails; groups used to store it COMPLETED and charge it, private chats did not) and
 *   INTERRUPTED (the process holding the reply died).
 * - BLOCKED for lack of moderation (MODERATION_UNAVAILABLE) is free too: our safety check
 *   was down, not the person's message at fault, so it is a failure of ours (private chats
 *   already ended it FAILED and free; groups ended it BLOCKED and charged).
 * - INPUT_BLOCKED and QUOTA_EXCEEDED happen before anything is reserved: free.
 */
export function settlement(outcome: ReplyOutcome): Settlement {
  switch (outcome.status) {
    case 'COMPLETED':
      return 'CHARGED';
    case 'BLOCKED':
      return outcome.reason === 'CONTENT_BLOCKED' ? 'CHARGED' : 'FREE';
    case 'FAILED':
      return 'FREE';
  }
}

/** Reads a stored failure reason; one this code does not know counts as INTERNAL (free). */
export function failureReason(reason: string): FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(reason) ? (reason as FailureReason) : 'INTERNAL';
}

/** What a reply answers: a group's message, or a private conversation's. */
export type ReplyTrigger =
  | { chat: 'GROUP'; kind: 'USER' | 'AI' | 'SYSTEM'; authorId: string | null }
  | { chat: 'PRIVATE'; role: 'USER' | 'AI'; ownerId: string };

/**
 * The user an AI reply is charged to, or null when nobody may be: "each AI response
 * counts only against the quota of the person it is replying to" (§4).
 *
 * - In a group, the author of the triggering message; never the other members.
 * - In a private chat, its one person.
 * - A trigger that is not a person's message (the AI's own, a system event, or a message
 *   whose author was deleted) has no payer, and the AI does not reply to it: a reply
 *   nobody pays for would escape every quota. Reactions and the AUTO-mode classifier
 *   are not replies and are paid by nobody.
 */
export function payerOf(trigger: ReplyTrigger): string | null {
  if (trigger.chat === 'PRIVATE') return trigger.role === 'USER' ? trigger.ownerId : null;
  return trigger.kind === 'USER' ? trigger.authorId : null;
}
