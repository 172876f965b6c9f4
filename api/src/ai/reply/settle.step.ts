/**
 * settle: the reply's ending is stored, and its model response settled with it in the same
 * statement (how it ended, and whether its unit stays charged: the one rule is
 * domain/quota/settlement.ts); a blocked reply's AI_BLOCKED case for staff commits with
 * them (`blockedCase`, opened by the chat's store in its transaction). What is left is to
 * count it.
 */
import type { OpenBlockedCase, ReplyChat, ReplyRef, StoredEnding } from './reply-chat';
import type { ReplyDeps } from './reply-deps';

export function settle(stored: StoredEnding, d: Pick<ReplyDeps, 'metrics'>): void {
  d.metrics.aiResponses.inc({ status: stored.ending.status });
}

/** The AI_BLOCKED case of `reply` once stored BLOCKED, opened in the store's transaction. */
export function blockedCase<R extends ReplyRef>(chat: ReplyChat<R>, reply: R, d: Pick<ReplyDeps, 'safetyCases'>): OpenBlockedCase {
  return async (tx, stored) => {
    const { ending } = stored;
    if (ending.status !== 'BLOCKED') return;
    const scope = chat.caseScope(reply, stored);
    const { verdict } = ending;
    await d.safetyCases.open(
      {
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
      },
      tx,
    );
  };
}
