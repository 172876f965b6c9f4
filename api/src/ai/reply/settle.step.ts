/**
 * settle: the reply's ending is stored, and its model response settled with it in the same
 * statement (how it ended, and whether its unit stays charged: the one rule is
 * domain/quota/settlement.ts). What is left is to count it, and to send a blocked reply to
 * staff as an AI_BLOCKED case.
 */
import type { ReplyChat, ReplyRef, StoredEnding } from './reply-chat';
import type { ReplyDeps } from './reply-deps';

export async function settle<R extends ReplyRef>(chat: ReplyChat<R>, reply: R, stored: StoredEnding, d: Omit<ReplyDeps, 'provider' | 'moderation'>): Promise<void> {
  const { ending } = stored;
  d.metrics.aiResponses.inc({ status: ending.status });
  if (ending.status !== 'BLOCKED') return;
  const scope = chat.caseScope(reply, stored);
  const { verdict } = ending;
  await d.safetyCases
    .open({
      source: 'AI_BLOCKED',
      groupId: scope.groupId,
      messageId: scope.messageId,
      authorId: null,
      categories: verdict?.categories ?? [],
      severity: verdict && verdict.severity !== 'none' ? verdict.severity : 'high',
      teen: stored.profile === 'TEEN',
      excerpt: ending.text,
      details: {
        ...scope.details,
        reason: ending.reason === 'CONTENT_BLOCKED' ? 'blocked' : 'moderation_unavailable',
        chargedUserId: chat.payer.id,
        ...(verdict ? { scores: verdict.scores, source: verdict.source } : {}),
      },
    })
    // The reply is stored and settled: a case that cannot be stored is logged, not retried.
    .catch((err) => d.log.error({ err, responseId: reply.responseId }, 'opening a safety case for a blocked AI reply failed'));
}
