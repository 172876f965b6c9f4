/**
 * The one small pub/sub interface behind group fan-out, and the control notices every
 * process must hear (a user suspended: their sockets close). In-process by default;
 * Redis when REDIS_URL is set, so several API processes share subscriptions.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { GroupEventType } from './group-event.type';

export type EventHandler = (event: GroupEventType) => void;

/** A notice for every API process, not for one group's subscribers. */
export type ControlMessage = { type: 'user-suspended'; userId: string };
export type ControlHandler = (message: ControlMessage) => void;

export interface EventBus {
  publish(groupId: string, event: GroupEventType): void;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  subscribe(groupId: string, handler: EventHandler): Promise<() => void>;
  close(): Promise<void>;
  /** Called after a lost connection is back: events published meanwhile may be missing. */
  onReconnect?(handler: () => void): void;
  /** True when the bus can carry events (always, in-process). */
  ping?(): Promise<boolean>;
  /** Tells every process; this one hears it at once, even while Redis is unreachable. */
  publishControl(message: ControlMessage): void;
  /** Resolves once the handler hears control messages from every process. */
  onControl(handler: ControlHandler): Promise<() => void>;
}

const channel = (groupId: string) => `rt:group:${groupId}`;
const CONTROL_CHANNEL = 'rt:control';

export class InProcessEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<EventHandler>>();
  private readonly controlHandlers = new Set<ControlHandler>();

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

  publishControl(message: ControlMessage): void {
    for (const h of [...this.controlHandlers]) h(message);
  }

  async onControl(handler: ControlHandler): Promise<() => void> {
    this.controlHandlers.add(handler);
    return () => void this.controlHandlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.controlHandlers.clear();
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
  /** Tells this process's control messages from the others' when Redis echoes them back. */
  private readonly origin = randomUUID();
  private readonly controlActive: Promise<unknown>;
  /**
   * SUBSCRIBE/UNSUBSCRIBE held back while the listening connection is in its handshake, in call order.
   * ioredis writes SUBSCRIBE (a command Redis allows while loading) straight to a socket that is
   * connected but not yet ready, instead of queueing it. If it goes out before the ready check's
   * INFO, the connection is in subscriber mode when INFO comes, the check fails, and ioredis drops
   * the connection and reconnects without resubscribing (it restores only the subscriptions of a
   * connection that had been ready): the caller was told the channel was active and hears nothing.
   */
  private heldSubCommands: Array<() => void> = [];

  constructor(url: string, private readonly log: Logger) {
    this.pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.sub = new Redis(url, { lazyConnect: false });
    for (const c of [this.pub, this.sub]) c.on('error', (err) => log.error({ err }, 'redis connection error'));
    // ioredis re-subscribes after a reconnect, but what was published meanwhile is gone:
    // listeners re-read the event log.
    let connectedOnce = false;
    this.sub.on('ready', () => {
      this.releaseSubCommands();
      if (connectedOnce) for (const h of this.reconnectHandlers) h();
      connectedOnce = true;
    });
    // A handshake that fails ends in 'close'; what was held then waits in ioredis's offline queue,
    // which is sent only once a connection is ready.
    this.sub.on('close', () => this.releaseSubCommands());
    this.controlActive = this.onSub(() => this.sub.subscribe(CONTROL_CHANNEL)).catch((err) => log.error({ err }, 'redis control subscription failed'));
    this.sub.on('message', (ch: string, raw: string) => {
      if (ch === CONTROL_CHANNEL) return this.receiveControl(raw);
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
    else this.channels.set(groupId, (entry = { refs: 1, active: this.onSub(() => this.sub.subscribe(channel(groupId))) }));
    await entry.active;
    return () => {
      unsubscribeLocal();
      const current = this.channels.get(groupId);
      if (!current || --current.refs > 0) return;
      this.channels.delete(groupId);
      this.onSub(() => this.sub.unsubscribe(channel(groupId))).catch((err) => this.log.warn({ err, groupId }, 'redis unsubscribe failed'));
    };
  }

  /** Sends a (un)subscribe on the listening connection, once that cannot cost the connection its subscriptions. */
  private onSub<T>(send: () => Promise<T>): Promise<T> {
    if (this.sub.status !== 'connect' && this.heldSubCommands.length === 0) return send();
    return new Promise<T>((resolve, reject) => this.heldSubCommands.push(() => send().then(resolve, reject)));
  }

  private releaseSubCommands(): void {
    // ioredis emits its events a tick late: the connection may already be in a new handshake.
    if (this.sub.status === 'connect') return;
    const held = this.heldSubCommands;
    this.heldSubCommands = [];
    for (const send of held) send();
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  publishControl(message: ControlMessage): void {
    this.local.publishControl(message);
    this.pub.publish(CONTROL_CHANNEL, JSON.stringify({ origin: this.origin, message })).catch((err) => this.log.error({ err, message }, 'redis control publish failed'));
  }

  async onControl(handler: ControlHandler): Promise<() => void> {
    const off = await this.local.onControl(handler);
    await this.controlActive;
    return off;
  }

  private receiveControl(raw: string): void {
    let notice: { origin: string; message: ControlMessage };
    try {
      notice = JSON.parse(raw);
    } catch (err) {
      this.log.error({ err }, 'undecodable control message on redis');
      return;
    }
    if (notice.origin !== this.origin) this.local.publishControl(notice.message);
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
