/**
 * The one small pub/sub interface behind group fan-out. In-process by default; Redis
 * when REDIS_URL is set, so several API processes share subscriptions.
 */
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { GroupEventType } from './group-event.type';

export type EventHandler = (event: GroupEventType) => void;

export interface EventBus {
  publish(groupId: string, event: GroupEventType): void;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  subscribe(groupId: string, handler: EventHandler): Promise<() => void>;
  close(): Promise<void>;
  /** Called after a lost connection is back: events published meanwhile may be missing. */
  onReconnect?(handler: () => void): void;
  /** True when the bus can carry events (always, in-process). */
  ping?(): Promise<boolean>;
}

const channel = (groupId: string) => `rt:group:${groupId}`;

export class InProcessEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<EventHandler>>();

  publish(groupId: string, event: GroupEventType): void {
    const set = this.handlers.get(groupId);
    if (!set) return;
    for (const h of set) h(event);
  }

  async subscribe(groupId: string, handler: EventHandler): Promise<() => void> {
    let set = this.handlers.get(groupId);
    if (!set) this.handlers.set(groupId, (set = new Set()));
    set.add(handler);
    return () => {
      set!.delete(handler);
      if (set!.size === 0) this.handlers.delete(groupId);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}

/**
 * Redis pub/sub: one connection publishes, one listens; each group channel is
 * subscribed once per process however many local handlers it has.
 */
export class RedisEventBus implements EventBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly local = new InProcessEventBus();
  /** Per subscribed group: local handler count and the SUBSCRIBE every caller waits for. */
  private readonly channels = new Map<string, { refs: number; active: Promise<unknown> }>();
  private reconnectHandlers: Array<() => void> = [];

  constructor(url: string, private readonly log: Logger) {
    this.pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.sub = new Redis(url, { lazyConnect: false });
    for (const c of [this.pub, this.sub]) c.on('error', (err) => log.error({ err }, 'redis connection error'));
    // ioredis re-subscribes after a reconnect, but what was published meanwhile is gone:
    // listeners re-read the event log.
    let connectedOnce = false;
    this.sub.on('ready', () => {
      if (connectedOnce) for (const h of this.reconnectHandlers) h();
      connectedOnce = true;
    });
    this.sub.on('message', (ch: string, raw: string) => {
      const groupId = ch.slice('rt:group:'.length);
      let event: GroupEventType;
      try {
        event = JSON.parse(raw);
      } catch (err) {
        log.error({ err, ch }, 'undecodable event on redis');
        return;
      }
      this.local.publish(groupId, event);
    });
  }

  publish(groupId: string, event: GroupEventType): void {
    this.pub.publish(channel(groupId), JSON.stringify(event)).catch((err) => this.log.error({ err, groupId }, 'redis publish failed'));
  }

  async subscribe(groupId: string, handler: EventHandler): Promise<() => void> {
    const unsubscribeLocal = await this.local.subscribe(groupId, handler);
    let entry = this.channels.get(groupId);
    if (entry) entry.refs += 1;
    else this.channels.set(groupId, (entry = { refs: 1, active: this.sub.subscribe(channel(groupId)) }));
    await entry.active;
    return () => {
      unsubscribeLocal();
      const current = this.channels.get(groupId);
      if (!current || --current.refs > 0) return;
      this.channels.delete(groupId);
      this.sub.unsubscribe(channel(groupId)).catch((err) => this.log.warn({ err, groupId }, 'redis unsubscribe failed'));
    };
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  /** Answers within a second: a readiness probe must not hang while Redis reconnects. */
  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1000)));
    try {
      return await Promise.race([this.pub.ping().then((r) => r === 'PONG'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.local.close();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
