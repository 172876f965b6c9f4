/**
 * decide: whether the AI replies. The message answered is judged first (a message the AI
 * must not answer, or cannot check, gets no reply and costs nothing), then the chat says
 * whether it is addressed, then the router picks the model the payer's plan allows.
 */
import { blocksAiInput } from '../../domain/safety/moderation';
import { selectModel, RouteDecision } from '../../domain/router/select-model';
import type { Declined, ReplyChat, ReplyRef } from './reply-chat';
import type { ReplyDeps } from './reply-deps';

export type Decision = { go: true; route: RouteDecision; model: string } | { go: false; declined: Declined };

export async function decide<R extends ReplyRef>(chat: ReplyChat<R>, d: Pick<ReplyDeps, 'config'>): Promise<Decision> {
  if (chat.inputVerdict) {
    const verdict = await chat.inputVerdict();
    if (verdict === null) return { go: false, declined: { reason: 'MODERATION_UNAVAILABLE' } };
    if (blocksAiInput(verdict)) return { go: false, declined: { reason: 'INPUT_BLOCKED' } };
  }
  const answer = await chat.answer();
  if (answer.kind === 'none') return { go: false, declined: { reason: 'NOT_ADDRESSED' } };
  if (answer.kind === 'react') return { go: false, declined: { reason: 'REACTED', emoji: answer.emoji } };
  const route = selectModel(answer.route, chat.payer.plan);
  return { go: true, route, model: d.config.ai.models[route.tier] };
}
