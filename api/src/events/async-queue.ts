/**
 * Where a queue's items can go straight away instead of waiting to be pulled: the
 * WebSocket server writes each event's frame as it is pushed (see graphql/ws-server.ts).
 */
export interface QueueSink<T> {
  write(item: T): void;
  /** Items written but not yet handed to the network: counts like queued items. */
  readonly backlog: number;
  /** Resolves once the backlog is empty. */
  drained(): Promise<void>;
  /** The consumer went away: nothing more is written, not even what is still being prepared. */
  close(): void;
}

/**
 * A push-driven async iterator: the feed pushes, graphql-ws pulls. `return()` from the
 * consumer (client completed or disconnected) runs the cleanup exactly once. With a sink
 * attached, items bypass the iterator, which then only reports the end of the stream.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private sink: QueueSink<T> | null = null;
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private waitingReject: ((e: unknown) => void) | null = null;
  private done = false;
  private failure: unknown = null;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly onClose: () => void) {}

  get size(): number {
    return this.sink ? this.sink.backlog : this.items.length;
  }

  /** From now on every item goes to `sink` as it is pushed; items already queued go first. */
  attach(sink: QueueSink<T>): void {
    this.sink = sink;
    for (const item of this.items.splice(0)) sink.write(item);
    const waiters = this.drainWaiters.splice(0);
    if (waiters.length > 0) void sink.drained().then(() => waiters.forEach((w) => w()));
  }

  get closed(): boolean {
    return this.done;
  }

  /** Resolves once the consumer has taken every queued item, or the stream has ended. */
  drained(): Promise<void> {
    if (this.sink && !this.done) return this.sink.drained();
    if (this.items.length === 0 || this.done) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private wakeDrainWaiters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  push(item: T): void {
    if (this.done) return;
    if (this.sink) {
      this.sink.write(item);
    } else if (this.waiting) {
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
      const finish = () => (error ? reject(error) : resolve({ value: undefined, done: true }));
      // What the sink is still writing goes out before the end does.
      if (this.sink) void this.sink.drained().then(finish);
      else finish();
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift()!;
      if (this.items.length === 0) this.wakeDrainWaiters();
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return this.sink ? this.sink.drained().then(() => this.ending()) : this.ending();
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingReject = reject;
    });
  }

  private ending(): Promise<IteratorResult<T>> {
    if (this.failure) {
      const f = this.failure;
      this.failure = null;
      return Promise.reject(f);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  return(): Promise<IteratorResult<T>> {
    this.sink?.close();
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
