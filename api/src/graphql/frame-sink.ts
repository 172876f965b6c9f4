/**
 * Writes a subscription's events straight to its WebSocket as graphql-ws `next` frames.
 * The feed pushes an event; the sink takes the event's shared JSON (executed and
 * serialized once per event and query shape) and sends it framed for this subscriber,
 * with no per-subscriber iterator, promise chain or re-serialization in between.
 * Frames leave in push order even when an execution has to wait for a resolver.
 */
import { LRUCache } from 'lru-cache';
import type { WebSocket } from 'ws';
import type { QueueSink } from '../events/async-queue';

/** Told of every write (see ws-limits.ts): bounds the bytes a socket that stops reading can hold. */
export interface WriteLedger {
  afterWrite(): void;
  afterFlush(): void;
}

/** One event's result as JSON, UTF-8 encoded once for every subscriber's frame. */
export interface SharedResult {
  bytes: Buffer;
}

const FRAME_END = Buffer.from('}');

/**
 * Frame heads by operation id, shared: clients number their operations, so most sockets
 * use the same few ids. Each head has memory of its own: a small Buffer.from() is a slice
 * of Node's shared 8 KB pool and would keep the whole slab alive for as long as its
 * subscription lives.
 */
const heads = new LRUCache<string, Buffer>({ max: 1024 });

function frameHead(id: string): Buffer {
  let head = heads.get(id);
  if (!head) {
    // The same bytes graphql-ws would write: {"id":…,"type":"next","payload":<result>}
    const text = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    head = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    head.write(text);
    heads.set(id, head);
  }
  return head;
}

export class FrameSink<T> implements QueueSink<T> {
  private readonly head: Buffer;
  /** Frames handed to `ws` whose write has not completed. */
  private unflushed = 0;
  /** Executions still running, in push order; null when none is. */
  private chain: Promise<void> | null = null;
  private pendingExecutions = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    id: string,
    private readonly run: (item: T) => SharedResult | Promise<SharedResult>,
    private readonly onError: (err: unknown) => void,
    private readonly ledger: WriteLedger | null = null,
  ) {
    this.head = frameHead(id);
  }

  get backlog(): number {
    return this.unflushed + this.pendingExecutions;
  }

  write(item: T): void {
    let result: SharedResult | Promise<SharedResult>;
    try {
      result = this.run(item);
    } catch (err) {
      // Called from the feed's loop over every subscriber: this one fails alone.
      return this.onError(err);
    }
    if (!this.chain && !(result instanceof Promise)) return this.send(result);
    this.pendingExecutions++;
    const link = (this.chain ?? Promise.resolve())
      .then(() => result)
      .then((r) => this.send(r), this.onError)
      .finally(() => {
        this.pendingExecutions--;
        if (this.chain === link) this.chain = null;
        this.wake();
      });
    this.chain = link;
  }

  /** The subscription ended on the client's side: a frame still being prepared must not follow (its id may be reused). */
  close(): void {
    this.closed = true;
  }

  drained(): Promise<void> {
    if (this.backlog === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private send(result: SharedResult): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    const frame = Buffer.concat([this.head, result.bytes, FRAME_END], this.head.length + result.bytes.length + 1);
    this.unflushed++;
    this.socket.send(frame, { binary: false }, () => {
      this.unflushed--;
      this.ledger?.afterFlush();
      this.wake();
    });
    this.ledger?.afterWrite();
  }

  private wake(): void {
    if (this.backlog > 0 || this.waiters.length === 0) return;
    for (const w of this.waiters.splice(0)) w();
  }
}
