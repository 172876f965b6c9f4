/**
 * A push-driven async iterator: the feed pushes, graphql-ws pulls. `return()` from the
 * consumer (client completed or disconnected) runs the cleanup exactly once.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private waitingReject: ((e: unknown) => void) | null = null;
  private done = false;
  private failure: unknown = null;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly onClose: () => void) {}

  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Resolves once the consumer has taken every queued item, or the stream has ended. */
  drained(): Promise<void> {
    if (this.items.length === 0 || this.done) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private wakeDrainWaiters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.waitingReject = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the stream after the queued items; with an error, the consumer sees it after them. */
  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failure = error ?? null;
    this.onClose();
    this.wakeDrainWaiters();
    if (this.waiting && this.items.length === 0) {
      const resolve = this.waiting;
      const reject = this.waitingReject!;
      this.waiting = this.waitingReject = null;
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift()!;
      if (this.items.length === 0) this.wakeDrainWaiters();
      return Promise.resolve({ value, done: false });
    }
    if (this.done) {
      if (this.failure) {
        const f = this.failure;
        this.failure = null;
        return Promise.reject(f);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingReject = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.failure = null;
    this.end();
    if (this.waiting) {
      this.waiting({ value: undefined, done: true });
      this.waiting = this.waitingReject = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
