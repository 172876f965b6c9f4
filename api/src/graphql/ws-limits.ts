/**
 * What one socket and one user may hold in this process: subscriptions (per socket and per
 * user), and bytes waiting in send buffers (per socket and per user), read from
 * `socket.bufferedAmount` after every write, so that a client that stops reading is closed
 * once its unread bytes pass the budget instead of growing the heap without bound.
 *
 * The byte check is on the fan-out's hot path: one getter and a few additions per frame.
 * Subscriptions are counted from graphql-ws's own record of the operations in flight on
 * the socket, so nothing has to be released when a stream ends, fails or is completed.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { DomainError } from '../errors';

/** RFC 6455 "Try Again Later": graphql-ws clients reconnect on it (then resume with afterSeq). */
export const SLOW_CONSUMER_CLOSE_CODE = 1013;
export const SLOW_CONSUMER_CLOSE_REASON = 'Too much unread data: reconnect and resume with afterSeq';
/** How long a socket closed for its backlog has to read up to the close frame before it is cut off. */
export const SLOW_CONSUMER_GRACE_MS = 5000;

export interface WsLimitOptions {
  maxSubscriptionsPerSocket: number;
  maxSubscriptionsPerUser: number;
  maxBufferedBytes: number;
  maxBufferedBytesPerUser: number;
}

/** graphql-ws's connection context: `subscriptions` holds the id of every operation in flight. */
interface OperationsInFlight {
  subscriptions: Record<string, unknown>;
}

interface UserLedger {
  readonly userId: string;
  /** Sum of `seen` over the user's sockets. */
  bytes: number;
  readonly sockets: Set<SocketLedger>;
}

/** One socket's share: call `afterWrite` after each send and `afterFlush` from each send's callback. */
export class SocketLedger {
  /** bufferedAmount when last looked at. */
  seen = 0;
  /** Ids of the subscription operations admitted on this socket (pruned against `live`). */
  readonly subscriptionIds = new Set<string>();
  live: OperationsInFlight | null = null;
  user: UserLedger | null = null;
  closing = false;

  constructor(
    readonly socket: WebSocket,
    private readonly limits: WsLimits,
  ) {}

  afterWrite(): void {
    const now = this.socket.bufferedAmount;
    const user = this.user;
    if (user !== null) user.bytes += now - this.seen;
    this.seen = now;
    if (now > this.limits.options.maxBufferedBytes || (user !== null && user.bytes > this.limits.options.maxBufferedBytesPerUser)) this.limits.overBudget(this);
  }

  afterFlush(): void {
    const now = this.socket.bufferedAmount;
    if (this.user !== null) this.user.bytes += now - this.seen;
    this.seen = now;
  }

  /** graphql-ws's `send` (acks, pongs, query results, errors, completes): counted like the event frames. */
  send(data: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.send(data, (err) => {
        this.afterFlush();
        // A socket that went away while writing is the client's leaving, not a failure of the operation.
        if (err && this.socket.readyState === this.socket.OPEN) reject(err);
        else resolve();
      });
      this.afterWrite();
    });
  }

  /** Live subscriptions on this socket: those graphql-ws still has in flight. */
  subscriptionCount(): number {
    const live = this.live?.subscriptions;
    for (const id of this.subscriptionIds) if (!live || !(id in live)) this.subscriptionIds.delete(id);
    return this.subscriptionIds.size;
  }
}

export class WsLimits {
  private readonly sockets = new WeakMap<WebSocket, SocketLedger>();
  private readonly users = new Map<string, UserLedger>();

  constructor(
    readonly options: WsLimitOptions,
    private readonly log: Logger,
  ) {}

  /** A socket was accepted: every frame written to it goes through its ledger. */
  open(socket: WebSocket): SocketLedger {
    const ledger = new SocketLedger(socket, this);
    this.sockets.set(socket, ledger);
    return ledger;
  }

  ledgerOf(socket: WebSocket): SocketLedger | undefined {
    return this.sockets.get(socket);
  }

  /** The socket is closed: nothing it held counts any longer. */
  closed(socket: WebSocket): void {
    const ledger = this.sockets.get(socket);
    if (!ledger) return;
    this.sockets.delete(socket);
    const user = ledger.user;
    if (user) {
      user.bytes -= ledger.seen;
      user.sockets.delete(ledger);
      if (user.sockets.size === 0) this.users.delete(user.userId);
    }
    ledger.user = null;
    ledger.live = null;
    ledger.subscriptionIds.clear();
  }

  /**
   * Before each operation on a socket (graphql-ws has already put `id` among the operations
   * in flight): a subscription past the socket's or the user's limit is refused.
   */
  admit(socket: WebSocket, live: OperationsInFlight, userId: string | null, id: string, isSubscription: boolean): DomainError | null {
    const ledger = this.sockets.get(socket);
    if (!ledger) return null;
    ledger.live = live;
    const user = ledger.user ?? (userId === null ? null : this.attach(ledger, userId));
    if (!isSubscription) return null;
    const { maxSubscriptionsPerSocket, maxSubscriptionsPerUser } = this.options;
    if (ledger.subscriptionCount() >= maxSubscriptionsPerSocket) {
      return new DomainError('RATE_LIMITED', `At most ${maxSubscriptionsPerSocket} subscriptions per connection`);
    }
    let total = 0;
    for (const s of user?.sockets ?? [ledger]) total += s.subscriptionCount();
    if (total >= maxSubscriptionsPerUser) {
      return new DomainError('RATE_LIMITED', `At most ${maxSubscriptionsPerUser} subscriptions per user`);
    }
    ledger.subscriptionIds.add(id);
    return null;
  }

  private attach(ledger: SocketLedger, userId: string): UserLedger {
    let user = this.users.get(userId);
    if (!user) this.users.set(userId, (user = { userId, bytes: 0, sockets: new Set() }));
    user.sockets.add(ledger);
    user.bytes += ledger.seen;
    ledger.user = user;
    return user;
  }

  /**
   * A write left too much unread: the socket past its own budget, or else the user's socket
   * holding the most, is closed. Its bytes count until it is gone, which takes at most
   * SLOW_CONSUMER_GRACE_MS.
   */
  overBudget(ledger: SocketLedger): void {
    let victim: SocketLedger | null = null;
    if (ledger.seen > this.options.maxBufferedBytes) victim = ledger;
    else if (ledger.user) for (const s of ledger.user.sockets) if (!s.closing && (victim === null || s.seen > victim.seen)) victim = s;
    if (victim === null || victim.closing) return;
    victim.closing = true;
    const { socket } = victim;
    this.log.warn(
      { userId: victim.user?.userId ?? null, bufferedBytes: victim.seen, userBufferedBytes: victim.user?.bytes ?? null, closeCode: SLOW_CONSUMER_CLOSE_CODE },
      'closing a WebSocket that is not reading: buffered bytes over the limit',
    );
    socket.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_CLOSE_REASON);
    setTimeout(() => socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }
}
