/**
 * Operations in flight per user. One user's requests take turns (at most `limit` running,
 * up to `queue` more waiting, first come first served); past that they are refused with
 * RATE_LIMITED (HTTP 429). So no single user, signed in or anonymous (counted by client
 * address), can hold the database pool or the event loop with parallel requests while
 * everyone else waits: HTTP and graphql-ws queries and mutations draw on the same turns.
 */
import { DomainError } from '../errors';

export type Release = () => void;

interface Lane {
  running: number;
  waiting: Array<() => void>;
}

export class InFlightLimiter {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly limit: number,
    private readonly queue: number,
  ) {}

  /** Resolves with the turn's release once `key` may run; throws RATE_LIMITED when its queue is full. */
  acquire(key: string): Release | Promise<Release> {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { running: 0, waiting: [] }));
    if (lane.running < this.limit) {
      lane.running++;
      return this.releaser(key, lane);
    }
    if (lane.waiting.length >= this.queue) {
      throw new DomainError('RATE_LIMITED', `Too many operations at once: at most ${this.limit} run and ${this.queue} wait per user`, {
        http: { status: 429 },
      });
    }
    const waiting = lane;
    // The turn passes straight from the releasing operation to this one (running stays).
    return new Promise<Release>((resolve) => waiting.waiting.push(() => resolve(this.releaser(key, waiting))));
  }

  /** Operations running and waiting for `key` (for tests and metrics). */
  load(key: string): { running: number; waiting: number } {
    const lane = this.lanes.get(key);
    return { running: lane?.running ?? 0, waiting: lane?.waiting.length ?? 0 };
  }

  private releaser(key: string, lane: Lane): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = lane.waiting.shift();
      if (next) return next();
      lane.running--;
      if (lane.running === 0) this.lanes.delete(key);
    };
  }
}

/** Runs `fn` in one of `key`'s turns. */
export async function withTurn<T>(limiter: InFlightLimiter, key: string, fn: () => Promise<T>): Promise<T> {
  const release = await limiter.acquire(key);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** The key a client operation is counted under: the token's subject, or the client's address without one. */
export const userKey = (subject: string | null | undefined, address: string): string => (subject ? `user:${subject}` : `address:${address}`);

const perService = new WeakMap<object, InFlightLimiter>();

/** The one limiter of an API process (its HTTP handler and graphql-ws server share the turns). */
export function inFlightLimiter(services: { config: { graphql: { maxInFlightPerUser: number; maxQueuedPerUser: number } } }): InFlightLimiter {
  let limiter = perService.get(services);
  if (!limiter) perService.set(services, (limiter = new InFlightLimiter(services.config.graphql.maxInFlightPerUser, services.config.graphql.maxQueuedPerUser)));
  return limiter;
}

/**
 * An operation over graphql-ws in one of its user's turns; without a turn, a result with
 * the RATE_LIMITED error (graphql-ws sends it as the operation's only result).
 */
export async function executeInTurn<R>(limiter: InFlightLimiter, subject: string | undefined, run: () => R | Promise<R>): Promise<R | { errors: DomainError[] }> {
  let release: Release;
  try {
    release = await limiter.acquire(userKey(subject, 'websocket'));
  } catch (err) {
    if (err instanceof DomainError) return { errors: [err] };
    throw err;
  }
  try {
    return await run();
  } finally {
    release();
  }
}
