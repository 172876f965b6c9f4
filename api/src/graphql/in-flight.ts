/**
 * Operations in flight per user. One user's requests take turns (at most `limit` running,
 * up to `queue` more waiting, first come first served); past that they are refused with
 * RATE_LIMITED (HTTP 429). So no single user, signed in or anonymous (counted by client
 * address), can hold the database pool or the event loop with parallel requests while
 * everyone else waits: HTTP and graphql-ws queries and mutations draw on the same turns.
 * Once its cost is known an operation also draws on its user's cost per second (CostRate),
 * and all users' running operations together stay within a cost budget (CostBudget).
 */
import { LRUCache } from 'lru-cache';
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

/** The key a client operation is counted under: the token's subject, or the client's address without one. */
export const userKey = (subject: string | null | undefined, address: string): string => (subject ? `user:${subject}` : `address:${address}`);

/**
 * The cost (limits.ts) of the operations running in one process, all users together,
 * bounded: a user's turns bound how many of their operations run, this bounds how much
 * work all of them are at once. An operation waits until its cost fits (one alone always
 * fits); waiting ones are let in as soon as they fit, so cheap operations (another user's
 * `group(id)`) do not queue behind an expensive one that is waiting for room.
 */
export class CostBudget {
  private used = 0;
  private readonly waiting: Array<{ cost: number; admit: () => void }> = [];

  constructor(readonly budget: number) {}

  acquire(cost: number): Release | Promise<Release> {
    if (this.fits(cost)) return this.take(cost);
    return new Promise<Release>((resolve) => this.waiting.push({ cost, admit: () => resolve(this.take(cost)) }));
  }

  /** Cost in flight and operations waiting (for tests and metrics). */
  load(): { used: number; waiting: number } {
    return { used: this.used, waiting: this.waiting.length };
  }

  private fits(cost: number): boolean {
    return this.used === 0 || this.used + cost <= this.budget;
  }

  private take(cost: number): Release {
    this.used += cost;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= cost;
      for (let i = 0; i < this.waiting.length; ) {
        const w = this.waiting[i];
        if (!this.fits(w.cost)) {
          i++;
          continue;
        }
        this.waiting.splice(i, 1);
        w.admit();
      }
    };
  }
}

/**
 * Cost per user and second (a leaky bucket, as Shopify meters its GraphQL API): a user
 * may spend `burst` at once, then `perSecond`. An operation past it waits, in its turn,
 * until the bucket has room (so a flood slows down instead of spinning on refusals);
 * one that would wait longer than `maxWaitMs` is refused with RATE_LIMITED (429).
 * Buckets live in this process; a user idle long enough to be full again is forgotten.
 */
export class CostRate {
  private readonly buckets: LRUCache<string, { level: number; at: number }>;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxWaitMs = 10_000,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.buckets = new LRUCache({ max: 100_000, ttl: Math.ceil((burst / perSecond) * 1000) + 1000 });
  }

  /** Takes `cost` from `key`'s bucket, waiting for it to refill when it must. */
  take(key: string, cost: number): void | Promise<void> {
    const t = this.now();
    const b = this.buckets.get(key) ?? { level: this.burst, at: t };
    // Refill since last time, then reserve: a later caller sees this one's share taken.
    b.level = Math.min(this.burst, b.level + ((t - b.at) * this.perSecond) / 1000) - cost;
    b.at = t;
    const waitMs = b.level >= 0 ? 0 : (-b.level / this.perSecond) * 1000;
    if (waitMs > this.maxWaitMs) {
      b.level += cost;
      this.buckets.set(key, b);
      throw new DomainError('RATE_LIMITED', `Too much work asked for: at most ${this.perSecond} cost per second per user`, {
        retryAfterMs: Math.ceil(waitMs - this.maxWaitMs),
        http: { status: 429 },
      });
    }
    this.buckets.set(key, b);
    if (waitMs > 0) return this.sleep(waitMs);
  }
}

const perService = new WeakMap<object, InFlightLimiter>();
const rates = new WeakMap<object, CostRate>();

/** The one cost rate of an API process (HTTP and graphql-ws share each user's bucket), by its config. */
export function costRate(config: { graphql: { costPerSecondPerUser: number; costBurstPerUser: number } }): CostRate {
  let rate = rates.get(config);
  if (!rate) rates.set(config, (rate = new CostRate(config.graphql.costPerSecondPerUser, config.graphql.costBurstPerUser)));
  return rate;
}
const budgets = new WeakMap<object, CostBudget>();

/** The one cost budget of an API process (both endpoints and graphql-ws share it), by its config. */
export function costBudget(config: { graphql: { maxCostInFlight: number } }): CostBudget {
  let budget = budgets.get(config);
  if (!budget) budgets.set(config, (budget = new CostBudget(config.graphql.maxCostInFlight)));
  return budget;
}

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
export async function executeInTurn<R>(
  { turns, rate, budget }: { turns: InFlightLimiter; rate: CostRate; budget: CostBudget },
  subject: string | undefined,
  cost: () => number,
  run: () => R | Promise<R>,
): Promise<R | { errors: DomainError[] }> {
  const key = userKey(subject, 'websocket');
  let release: Release;
  try {
    release = await turns.acquire(key);
  } catch (err) {
    if (err instanceof DomainError) return { errors: [err] };
    throw err;
  }
  try {
    const c = cost();
    try {
      await rate.take(key, c);
    } catch (err) {
      if (err instanceof DomainError) return { errors: [err] };
      throw err;
    }
    const room = await budget.acquire(c);
    try {
      return await run();
    } finally {
      room();
    }
  } finally {
    release();
  }
}
