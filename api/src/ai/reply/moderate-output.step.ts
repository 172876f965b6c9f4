/**
 * moderate output: the reply is judged under a safety profile before anyone sees it
 * whole. Blocked content is withheld (CONTENT_BLOCKED); when moderation is unavailable
 * under the profile (TEEN: no fallback) the reply is withheld as well
 * (MODERATION_UNAVAILABLE): both chats fail closed the same way.
 */
import type { SafetyProfileName } from '../../domain/safety/safety-profile';
import { ModerationResult, ModerationUnavailable } from '../../moderation/moderation.service';
import type { ReplyEnding } from './reply-chat';
import type { ReplyDeps } from './reply-deps';

export async function moderateOutput(text: string, profile: SafetyProfileName, d: Pick<ReplyDeps, 'moderation'>): Promise<ReplyEnding> {
  let verdict: ModerationResult;
  try {
    verdict = await d.moderation.checkOrFallback(text, profile);
  } catch (err) {
    if (!(err instanceof ModerationUnavailable)) throw err;
    return { status: 'BLOCKED', reason: 'MODERATION_UNAVAILABLE', text, verdict: null };
  }
  return verdict.block ? { status: 'BLOCKED', reason: 'CONTENT_BLOCKED', text, verdict } : { status: 'COMPLETED', text, verdict };
}
