/**
 * The anti-abuse limit on human messages (docs/product.md §3): a fixed window per sender.
 * In the process by default. With Redis it is kept in Redis, so that every API instance
 * counts against the same window: two instances behind a load balancer must not allow
 * twice the limit.
 */
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { FixedWindowLimiter } from '../domain/rate-limit/fixed-window';

export interface SendRateLimit {
  /** Counts one message by `sender`; resolves with the ms until its window resets when it is over the limit, else 0. */
  take(sender: string): Promise<number>;
  close(): Promise<void>;
}

export class LocalSendRateLimit implements SendRateLimit {
  private readonly limiter: FixedWindowLimiter;

  constructor(limit: number, windowMs: number) {
    this.limiter = new FixedWindowLimiter(limit, windowMs);
  }

  async take(sender: string): Promise<number> {
    return this.limiter.hit(sender, Date.now());
  }

  async close(): Promise<void> {}
}

/**
 * Counts and, on the window's first message, starts its expiry in one atomic step: parallel
 * messages through any number of instances are admitted against an exact count. A key
 * found without an expiry (it cannot normally happen) is given one rather than left to
 * block its sender for good.
 */
const TAKE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

type TakeCommand = (key: string, windowMs: number) => Promise<[number, number]>;

export class RedisSendRateLimit implements SendRateLimit {
  private readonly redis: Redis & { takeSendSlot: TakeCommand };
  /** Used while Redis does not answer: a limit per instance rather than none, and no send waits on Redis. */
  private readonly fallback: LocalSendRateLimit;

  constructor(
    url: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly log: Logger,
  ) {
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 });
    redis.on('error', (err) => log.warn({ err }, 'rate limit redis connection error'));
    redis.defineCommand('takeSendSlot', { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as RedisSendRateLimit['redis'];
    this.fallback = new LocalSendRateLimit(limit, windowMs);
  }

  async take(sender: string): Promise<number> {
    try {
      const [count, ttl] = await this.redis.takeSendSlot(`rt:rate:send:${sender}`, this.windowMs);
      return count > this.limit ? Math.max(1, ttl) : 0;
    } catch (err) {
      this.log.warn({ err }, 'rate limit redis unavailable; counting in this instance');
      return this.fallback.take(sender);
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
