/**
 * One AI reply, in groups and private chats alike, runs as named steps (reply-pipeline.ts):
 * decide → charge → stream → moderate output → settle. What differs between a group and a
 * private chat (where the reply is read from, how its unit is reserved, where it is shown
 * and stored) is the chat's: this interface. The rules (who pays, what is free, what is
 * blocked, what a failure is called) are the steps', so the two cannot drift apart.
 */
import type { EntityManager } from 'typeorm';
import type { ChatMessage } from '../../domain/prompt/build-prompt';
import type { ReplyContext } from '../../domain/prompt/reply-context';
import { BlockReason, FailureReason, settlement } from '../../domain/quota/settlement';
import type { QuotaStatus } from '../../domain/quota/evaluate-quota';
import type { RouteDecision, RouteRequest } from '../../domain/router/select-model';
import type { SafetyProfileName } from '../../domain/safety/safety-profile';
import type { ModerationResult } from '../../moderation/moderation.service';
import type { OpenCaseInput } from '../../moderation/safety-case.service';
import type { UserEntity } from '../../users/user.entity';

/** A reply whose unit is reserved: its model response, and the chat's own handle on it. */
export interface ReplyRef {
  responseId: string;
  model: string;
  /** When it started streaming (Date.now()), for its latency. */
  startedAt: number;
}

/** What the AI does with a message it was allowed to read. */
export type Answer = { kind: 'reply'; route: RouteRequest } | { kind: 'react'; emoji: string } | { kind: 'none' };

/** Why no reply was started: the input could not be checked or must not be answered, or the chat said no. */
export type Declined = { reason: 'MODERATION_UNAVAILABLE' | 'INPUT_BLOCKED' } | { reason: 'REACTED'; emoji: string } | { reason: 'NOT_ADDRESSED' };

/** The reply's end before it is stored. */
export type ReplyEnding =
  | { status: 'COMPLETED'; text: string; verdict: ModerationResult }
  | { status: 'BLOCKED'; reason: BlockReason; text: string; verdict: ModerationResult | null }
  | { status: 'FAILED'; reason: FailureReason };

export interface Usage {
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number | null;
  /** What the reply read (ModelResponse.context); null when it never got as far as its prompt. */
  context: ReplyContext | null;
}

/**
 * The model response a reply's ending settles, in the statement that stores the ending: a
 * process that dies after it leaves no response STREAMING (and charged) behind an ended reply.
 */
export interface SettledResponse extends Usage {
  id: string;
  /** Whether its unit stays used (`settlement` of the ending; a COMPLETED reply a group then blocks stays so: CONTENT_BLOCKED is charged too). */
  charged: boolean;
}

export function settledResponse(reply: ReplyRef, ending: ReplyEnding, usage: Usage): SettledResponse {
  return { id: reply.responseId, charged: settlement(ending) === 'CHARGED', ...usage };
}

/** The ending as stored, with its model response settled (a group blocks a COMPLETED reply when a minor joined meanwhile), and the message it is shown as. */
export interface StoredEnding {
  ending: ReplyEnding;
  messageId: string | null;
  /** The profile it was judged under when stored. */
  profile: SafetyProfileName;
}

/**
 * settle: opens a blocked reply's AI_BLOCKED case (settle.step.ts builds it) in the
 * transaction that stores the ending: no crash can store the one without the other.
 */
export type OpenBlockedCase = (tx: EntityManager, stored: StoredEnding) => Promise<void>;

export type Reserve<R extends ReplyRef> = { kind: 'reserved'; reply: R } | { kind: 'exhausted'; status: QuotaStatus } | { kind: 'skipped' };

export interface ReplyChat<R extends ReplyRef = ReplyRef> {
  readonly kind: 'GROUP' | 'PRIVATE' | 'CATCH_UP';
  /** The group, for a group's reply or catch-up; null in a private chat. */
  readonly groupId: string | null;
  /** Who pays: the author of the message answered (domain/quota/settlement.ts, payerOf). */
  readonly payer: UserEntity;
  /** The safety profile in force when the reply starts. */
  readonly profile: SafetyProfileName;
  /** Cancels the stream (the group closed, shutdown hands it back, its deadline passed). */
  readonly signal?: AbortSignal;

  /**
   * decide: the verdict on the message answered; null when moderation is unavailable under
   * the profile. Absent when the reply answers no message of its own (a catch-up reads
   * messages that were moderated after delivery and leaves out what that hid).
   */
  inputVerdict?(): Promise<ModerationResult | null>;
  /** decide: whether the AI answers a message it may read, and how. */
  answer(): Promise<Answer>;
  /** decide: tells whoever must know that no reply comes. */
  decline(why: Declined): Promise<void>;

  /** charge: reserves the payer's unit (and whatever shows the reply while it streams). */
  reserve(route: RouteDecision, model: string): Promise<Reserve<R>>;
  /** charge: tells the payer, alone, that their quota is spent. */
  quotaExceeded(status: QuotaStatus): Promise<void>;

  /** stream: the request's messages (never a member's personal memory in a group), and what of the chat they hold. */
  prompt(): Promise<{ messages: ChatMessage[]; context: ReplyContext }>;
  /** stream: a fragment of text as it arrives. */
  onDelta?(reply: R, text: string): void;
  /** stream: drops what streamed of a reply that ends without its text. */
  onStreamEnd?(reply: R, delivered: boolean): void;

  /**
   * settle: stores the ending and settles its model response (`settledResponse`) in one
   * statement, judged under `judged.under`. Unless `final`, nothing is
   * stored when the chat's profile is no longer that one (a minor joined while it
   * streamed): the profile in force is returned instead, to judge again. A final store
   * applies the stricter of the two itself. An ending stored BLOCKED commits with its case
   * (`openCase`, in the same transaction).
   */
  store(
    reply: R,
    ending: ReplyEnding,
    usage: Usage,
    judged: { under: SafetyProfileName; final: boolean },
    openCase: OpenBlockedCase,
  ): Promise<StoredEnding | { profileChanged: SafetyProfileName }>;
  /** settle: where a blocked reply's safety case points (group and message, or the private conversation). */
  caseScope(reply: R, stored: StoredEnding): Pick<OpenCaseInput, 'groupId' | 'messageId'> & { details: Record<string, unknown> };
}

/**
 * Why a stream is stopped when the shutdown grace is over: the reply is handed back, not
 * ended, and another instance (or the next start) redoes it (jobs/reply-takeover.ts).
 */
export class HandBack extends Error {
  constructor() {
    super('handed back at shutdown');
  }
}

/**
 * The reply is no longer this instance's to end: it was taken over (this process stalled
 * past its lease) or already ended elsewhere. Nothing is stored or settled here.
 */
export class ReplyNotHeld extends Error {
  constructor(readonly responseId: string) {
    super(`the AI reply ${responseId} is no longer this instance's: another instance took it over or ended it`);
    this.name = 'ReplyNotHeld';
  }
}
