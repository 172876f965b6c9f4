/**
 * An AI reply as named steps, the same for groups and private chats (reply-chat.ts):
 *
 *   decide → charge → stream → moderate output → settle
 *
 * A reply taken over from a dead instance starts again at stream (`finish`); one that
 * cannot be redone is ended with a failure (`fail`). Each step sits in its own file.
 */
import type { FailureReason } from '../../domain/quota/settlement';
import type { ReplyContext } from '../../domain/prompt/reply-context';
import { charge } from './charge.step';
import { decide } from './decide.step';
import { moderateOutput } from './moderate-output.step';
import type { Declined, ReplyChat, ReplyRef, StoredEnding, Usage } from './reply-chat';
import type { ReplyDeps } from './reply-deps';
import { blockedCase, settle } from './settle.step';
import { stream } from './stream.step';

export type ReplyResult =
  | { kind: 'declined'; declined: Declined }
  | { kind: 'quota_exceeded' }
  | { kind: 'skipped' }
  | { kind: 'ended'; stored: StoredEnding }
  | { kind: 'handed_back'; responseId: string };

export class ReplyPipeline {
  constructor(private readonly d: ReplyDeps) {}

  async run<R extends ReplyRef>(chat: ReplyChat<R>): Promise<ReplyResult> {
    const decision = await decide(chat, this.d);
    if (!decision.go) {
      await chat.decline(decision.declined);
      return { kind: 'declined', declined: decision.declined };
    }
    const charged = await charge(chat, decision, this.d);
    if (charged.kind !== 'charged') return charged;
    return this.finish(chat, charged.reply);
  }

  /** stream → moderate output → settle, for a reply whose unit is reserved. */
  async finish<R extends ReplyRef>(chat: ReplyChat<R>, reply: R): Promise<ReplyResult> {
    const streamed = await stream(chat, reply, this.d);
    if ('handedBack' in streamed) return { kind: 'handed_back', responseId: reply.responseId };
    if (!streamed.ok) return this.fail(chat, reply, streamed.reason, streamed.context);
    const { text, promptTokens, completionTokens } = streamed.completion;
    const { context } = streamed;
    const usage = (): Usage => ({ promptTokens, completionTokens, latencyMs: Date.now() - reply.startedAt, context });
    // Judged under the policy in force when it is stored: a minor may have joined while it
    // streamed. Usually the profile seen at the start still holds and the store confirms it
    // under the chat's lock; only when it changed is the reply judged again, once.
    const openCase = blockedCase(chat, reply, this.d);
    let under = chat.profile;
    let stored = await chat.store(reply, await moderateOutput(text, under, this.d), usage(), { under, final: false }, openCase);
    if ('profileChanged' in stored) {
      under = stored.profileChanged;
      stored = (await chat.store(reply, await moderateOutput(text, under, this.d), usage(), { under, final: true }, openCase)) as StoredEnding;
    }
    settle(stored, this.d);
    return { kind: 'ended', stored };
  }

  /** Ends a reserved reply FAILED (nothing streamed, or what did is dropped); the failure is free. */
  async fail<R extends ReplyRef>(chat: ReplyChat<R>, reply: R, reason: FailureReason, context: ReplyContext | null = null): Promise<ReplyResult> {
    const usage: Usage = { promptTokens: null, completionTokens: null, latencyMs: Date.now() - reply.startedAt, context };
    const stored = (await chat.store(reply, { status: 'FAILED', reason }, usage, { under: chat.profile, final: true }, blockedCase(chat, reply, this.d))) as StoredEnding;
    settle(stored, this.d);
    return { kind: 'ended', stored };
  }
}
