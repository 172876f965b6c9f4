/**
 * stream: asks the provider and passes the text on as it arrives. A reply that fails is
 * named here, one way for every chat: cut off by its clock (TIMEOUT), cancelled (its
 * group closed), no provider, a provider error, or an answer with no text
 * (EMPTY_RESPONSE). A stream stopped to hand the reply back at shutdown has no ending.
 */
import { ProviderNotConfigured, Completion } from '../provider';
import { ReplyTimeout } from '../reply-clock';
import type { FailureReason } from '../../domain/quota/settlement';
import type { ReplyContext } from '../../domain/prompt/reply-context';
import { HandBack, ReplyChat, ReplyRef } from './reply-chat';
import type { ReplyDeps } from './reply-deps';

/** How the stream ended, with what the reply read once its prompt was built. */
export type Streamed = ({ ok: true; completion: Completion } | { ok: false; reason: FailureReason } | { ok: false; handedBack: true }) & { context: ReplyContext | null };

export async function stream<R extends ReplyRef>(chat: ReplyChat<R>, reply: R, d: Pick<ReplyDeps, 'provider' | 'log'>): Promise<Streamed> {
  if (!d.provider.configured) return { ok: false, reason: 'PROVIDER_NOT_CONFIGURED', context: null };
  // Outside the try: a prompt that cannot be built is our failure, not the provider's.
  const { messages, context } = await chat.prompt();
  try {
    const completion = await d.provider.stream({
      model: reply.model,
      messages,
      signal: chat.signal,
      onDelta: chat.onDelta && ((text) => chat.onDelta!(reply, text)),
    });
    const delivered = completion.text.trim() !== '';
    chat.onStreamEnd?.(reply, delivered);
    return delivered ? { ok: true, completion, context } : { ok: false, reason: 'EMPTY_RESPONSE', context };
  } catch (err) {
    // Whatever streamed is dropped: a reply cut off or failed ends empty.
    chat.onStreamEnd?.(reply, false);
    const why: unknown = chat.signal?.reason;
    if (why instanceof HandBack) return { ok: false, handedBack: true, context };
    const reason: FailureReason =
      why instanceof ReplyTimeout || err instanceof ReplyTimeout
        ? 'TIMEOUT'
        : chat.signal?.aborted
          ? 'CANCELLED'
          : err instanceof ProviderNotConfigured
            ? 'PROVIDER_NOT_CONFIGURED'
            : 'PROVIDER_ERROR';
    if (reason !== 'CANCELLED') d.log.warn({ err, chat: chat.kind, groupId: chat.groupId, responseId: reply.responseId, reason }, 'model provider failed');
    return { ok: false, reason, context };
  }
}
