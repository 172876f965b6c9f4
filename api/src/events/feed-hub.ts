/**
 * Local fan-out of group events. One feed per group with local subscribers puts the
 * events it hears on the bus back into sequence order (filling any gap from the event
 * log), tracks who is a member, and hands each event to every local subscriber.
 * Subscribers that resume with `afterSeq` replay from the log first; the seam between
 * replay and live events is closed by sequence number, so nothing is lost or repeated.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { DomainError } from '../errors';
import type { Metrics } from '../ops/metrics';
import { AsyncQueue } from './async-queue';
import type { EventBus } from './event-bus';
import { readEvents } from './event-log';
import { GroupEventKind, GroupEventType } from './group-event.type';

const REPLAY_PAGE = 500;
const GAP_WAIT_MS = 25;

const fellBehind = () => new DomainError('RATE_LIMITED', 'Subscriber fell too far behind; resubscribe with afterSeq to resume');

const isDeparture = (e: GroupEventType) => e.type === GroupEventKind.MEMBER_LEFT || e.type === GroupEventKind.MEMBER_REMOVED;

export interface FeedOptions {
  maxQueuedEvents: number;
}

class Subscriber {
  readonly queue: AsyncQueue<GroupEventType>;
  private replaying = true;
  private pending: GroupEventType[] = [];

  constructor(
    readonly userId: string,
    /** Last seq this subscriber has been given (or skipped as already seen). */
    private pos: number,
    /** The group's last seq when membership was checked: later departures of this user end the stream. */
    private readonly checkedAtSeq: number,
    private readonly maxQueued: number,
    onClose: () => void,
  ) {
    this.queue = new AsyncQueue(onClose);
  }

  /** Live event from the feed, in sequence order, with the membership as of that event. */
  offer(e: GroupEventType, members: ReadonlySet<string>): void {
    if (this.queue.closed) return;
    if (this.replaying) {
      if (e.seq !== null) this.pending.push(e);
      // A client that stops reading stalls its replay; live events must not pile up without bound.
      if (this.pending.length > this.maxQueued) this.queue.end(fellBehind());
      return;
    }
    this.deliver(e, members.has(this.userId));
  }

  deliver(e: GroupEventType, stillMember: boolean): void {
    if (e.seq !== null) {
      if (e.seq <= this.pos) return;
      this.pos = e.seq;
    }
    if (e.visibleTo && e.visibleTo !== this.userId) return;
    if (isDeparture(e) && e.member?.user.id === this.userId && (e.seq ?? 0) > this.checkedAtSeq) {
      // The member learns of their own departure, and that is the last thing they get.
      this.queue.push(e);
      this.queue.end();
      return;
    }
    if (!stillMember) {
      // An ephemeral event can overtake the feed's news of this member joining (the replay
      // already showed it): skip it. Departures end the stream through their own event.
      if (e.seq === null) return;
      this.queue.end();
      return;
    }
    if (this.queue.size >= this.maxQueued) {
      this.queue.end(fellBehind());
      return;
    }
    this.queue.push(e);
  }

  async replay(read: (afterSeq: number, limit: number) => Promise<GroupEventType[]>, members: () => ReadonlySet<string>): Promise<void> {
    // A long absence is not a slow client: pages fit the queue, and each is taken before the
    // next one (or the live events held meanwhile) goes in.
    const limit = Math.min(REPLAY_PAGE, this.maxQueued);
    for (;;) {
      const page = await read(this.pos, limit);
      for (const e of page) {
        if (this.queue.closed) return;
        this.deliver(e, true);
      }
      await this.queue.drained();
      if (this.queue.closed) return;
      if (page.length < limit) break;
    }
    this.replaying = false;
    const pending = this.pending;
    this.pending = [];
    for (const e of pending) if (!this.queue.closed) this.deliver(e, members().has(this.userId));
  }
}

class GroupFeed {
  readonly subscribers = new Set<Subscriber>();
  members = new Set<string>();
  private lastSeq = 0;
  private ready = false;
  private early: GroupEventType[] = [];
  private outOfOrder = new Map<number, GroupEventType>();
  private gapTimer: NodeJS.Timeout | null = null;
  private fillingGap = false;
  disposed = false;
  unsubscribe: (() => void) | null = null;

  constructor(
    readonly groupId: string,
    private readonly read: (afterSeq: number, limit: number) => Promise<GroupEventType[]>,
    private readonly log: Logger,
    private readonly onDeliver: (n: number) => void,
  ) {}

  start(lastSeq: number, members: string[]): void {
    this.lastSeq = lastSeq;
    this.members = new Set(members);
    this.ready = true;
    const early = this.early;
    this.early = [];
    for (const e of early) this.onEvent(e);
  }

  onEvent = (e: GroupEventType): void => {
    if (!this.ready) {
      this.early.push(e);
      return;
    }
    if (e.seq === null) {
      this.dispatch(e);
      return;
    }
    if (e.seq <= this.lastSeq) return;
    if (e.seq === this.lastSeq + 1) {
      this.advance(e);
      return;
    }
    this.outOfOrder.set(e.seq, e);
    this.scheduleGapFill();
  };

  private advance(e: GroupEventType): void {
    this.lastSeq = e.seq!;
    this.dispatch(e);
    for (let next = this.outOfOrder.get(this.lastSeq + 1); next; next = this.outOfOrder.get(this.lastSeq + 1)) {
      this.outOfOrder.delete(next.seq!);
      this.lastSeq = next.seq!;
      this.dispatch(next);
    }
    for (const seq of this.outOfOrder.keys()) if (seq <= this.lastSeq) this.outOfOrder.delete(seq);
  }

  private dispatch(e: GroupEventType): void {
    const subject = e.member?.user.id;
    if (subject) {
      if (e.type === GroupEventKind.MEMBER_JOINED) this.members.add(subject);
      else if (isDeparture(e)) this.members.delete(subject);
    }
    for (const s of this.subscribers) s.offer(e, this.members);
    this.onDeliver(this.subscribers.size);
  }

  /** A later event arrived first: usually the earlier one is a moment behind on the bus; if not, read it. */
  private scheduleGapFill(): void {
    if (this.gapTimer || this.fillingGap) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.outOfOrder.size > 0) void this.catchUp();
    }, GAP_WAIT_MS);
    this.gapTimer.unref();
  }

  /** Reads what the log has beyond the last delivered seq and delivers it in order. */
  async catchUp(): Promise<void> {
    if (this.fillingGap || !this.ready || this.disposed) return;
    this.fillingGap = true;
    try {
      for (;;) {
        const events = await this.read(this.lastSeq, REPLAY_PAGE);
        for (const e of events) if (e.seq === this.lastSeq + 1) this.advance(e);
        if (events.length < REPLAY_PAGE || this.disposed) break;
      }
    } catch (err) {
      this.log.error({ err, groupId: this.groupId }, 'reading missed events failed');
    } finally {
      this.fillingGap = false;
      if (this.outOfOrder.size > 0) this.scheduleGapFill();
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.unsubscribe?.();
  }
}

export interface SubscribeRequest {
  userId: string;
  groupId: string;
  /** Replay everything after this seq; null to start at `checkedAtSeq`. */
  afterSeq: number | null;
  /** The group's last seq read in the same statement that confirmed membership. */
  checkedAtSeq: number;
}

export class FeedHub {
  private readonly feeds = new Map<string, { feed: GroupFeed; ready: Promise<void> }>();

  constructor(
    private readonly db: DataSource,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly options: FeedOptions,
  ) {
    bus.onReconnect?.(() => {
      log.warn({ feeds: this.feeds.size }, 'event bus reconnected: reading missed events from the log');
      for (const { feed } of this.feeds.values()) void feed.catchUp();
    });
  }

  /** Publishes committed events to every process. Call only after the transaction commits. */
  publish(events: readonly GroupEventType[]): void {
    for (const e of events) this.bus.publish(e.groupId, e);
  }

  async subscribe(req: SubscribeRequest): Promise<AsyncIterableIterator<GroupEventType>> {
    const { feed, ready } = this.feedFor(req.groupId);
    const sub = new Subscriber(req.userId, req.afterSeq ?? req.checkedAtSeq, req.checkedAtSeq, this.options.maxQueuedEvents, () => {
      feed.subscribers.delete(sub);
      this.metrics.subscriptions.dec();
      if (feed.subscribers.size === 0) {
        this.feeds.delete(req.groupId);
        feed.dispose();
      }
    });
    feed.subscribers.add(sub);
    this.metrics.subscriptions.inc();
    // The replay runs while the client consumes, so a backlog larger than the queue still fits.
    void (async () => {
      try {
        await ready;
        await sub.replay((after, limit) => readEvents(this.db.manager, req.groupId, after, limit), () => feed.members);
      } catch (err) {
        sub.queue.end(err);
      }
    })();
    return sub.queue;
  }

  private feedFor(groupId: string): { feed: GroupFeed; ready: Promise<void> } {
    const existing = this.feeds.get(groupId);
    if (existing) return existing;
    const feed = new GroupFeed(
      groupId,
      (after, limit) => readEvents(this.db.manager, groupId, after, limit),
      this.log,
      (n) => this.metrics.eventsDelivered.inc(n),
    );
    const ready = (async () => {
      feed.unsubscribe = await this.bus.subscribe(groupId, feed.onEvent);
      // The last subscriber may have gone while the bus was subscribing.
      if (feed.disposed) return feed.unsubscribe();
      const [state]: Array<{ lastSeq: number; members: string[] }> = await this.db.query(
        `SELECT g.last_seq::int AS "lastSeq", coalesce(array_agg(m.user_id) FILTER (WHERE m.user_id IS NOT NULL), '{}') AS members
           FROM groups g LEFT JOIN group_members m ON m.group_id = g.id WHERE g.id = $1 GROUP BY g.id`,
        [groupId],
      );
      feed.start(state?.lastSeq ?? 0, state?.members ?? []);
    })();
    const entry = { feed, ready };
    this.feeds.set(groupId, entry);
    ready.catch(() => this.feeds.get(groupId) === entry && this.feeds.delete(groupId));
    return entry;
  }

  /** Ends every open subscription (used on shutdown). */
  closeAll(): void {
    for (const { feed } of [...this.feeds.values()]) for (const s of [...feed.subscribers]) s.queue.end();
  }
}
