/**
 * The time a reply may take (issue 10, item 8). The SDK's timeout (AI_TIMEOUT_MS) ends
 * when the response headers arrive; after that a provider could hold a reply open, and
 * the author's unit with it, for as long as it likes. The clock bounds the whole reply
 * (AI_REPLY_DEADLINE_MS, from the request to the last token) and the silence between two
 * tokens (AI_STREAM_IDLE_MS). The wait for the first token counts only against the
 * deadline: reasoning models think, silently, before they answer.
 */

/** A reply cut off by its clock; callers end it FAILED with reason TIMEOUT, uncharged. */
export class ReplyTimeout extends Error {
  constructor(
    readonly limit: 'deadline' | 'idle',
    readonly ms: number,
  ) {
    super(limit === 'deadline' ? `The reply was not complete after ${ms} ms` : `The provider sent no token for ${ms} ms`);
    this.name = 'ReplyTimeout';
  }
}

export interface ReplyLimits {
  replyDeadlineMs: number;
  streamIdleMs: number;
}

export class ReplyClock {
  private readonly controller = new AbortController();
  private readonly deadline: NodeJS.Timeout;
  private idle: NodeJS.Timeout | null = null;
  private readonly follow: (() => void) | null = null;
  /** Set once a limit has passed; the signal is then aborted with it. */
  expired: ReplyTimeout | null = null;

  /** Starts counting now. `outer` (the caller's cancellation) aborts the clock's signal too, with its own reason. */
  constructor(
    private readonly limits: ReplyLimits,
    private readonly outer?: AbortSignal,
  ) {
    this.deadline = setTimeout(() => this.expire(new ReplyTimeout('deadline', limits.replyDeadlineMs)), limits.replyDeadlineMs).unref();
    if (outer?.aborted) this.controller.abort(outer.reason);
    else if (outer) {
      this.follow = () => this.controller.abort(outer.reason);
      outer.addEventListener('abort', this.follow, { once: true });
    }
  }

  /** Aborted when a limit passes or the caller cancels. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** A token arrived: the next one has AI_STREAM_IDLE_MS from now. */
  token(): void {
    if (this.expired) return;
    if (this.idle) this.idle.refresh();
    else this.idle = setTimeout(() => this.expire(new ReplyTimeout('idle', this.limits.streamIdleMs)), this.limits.streamIdleMs).unref();
  }

  stop(): void {
    clearTimeout(this.deadline);
    if (this.idle) clearTimeout(this.idle);
    if (this.follow) this.outer!.removeEventListener('abort', this.follow);
  }

  private expire(reason: ReplyTimeout): void {
    if (this.controller.signal.aborted) return;
    this.expired = reason;
    this.stop();
    this.controller.abort(reason);
  }
}
