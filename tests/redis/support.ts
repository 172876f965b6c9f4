/** Helpers for the tests that need a real Redis (run only when REDIS_URL is set). */
import Redis from 'ioredis';

/** `describe` when REDIS_URL is set, otherwise `describe.skip`, so jest reports the suite as skipped. */
export const describeWithRedis: jest.Describe = process.env.REDIS_URL ? describe : describe.skip;

export const redisUrl = (): string => {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set');
  return url;
};

/** Channel the event bus uses for a group (see api/src/events/event-bus.ts). */
export const groupChannel = (groupId: string) => `rt:group:${groupId}`;

/** How many Redis connections listen on the group's channel, across every process. */
export async function channelSubscribers(redis: Redis, groupId: string): Promise<number> {
  const [, n] = (await redis.pubsub('NUMSUB', groupChannel(groupId))) as [string, number];
  return Number(n);
}

/** Waits until `n` connections listen on the group's channel: only then are events from other processes heard. */
export async function untilChannelSubscribers(redis: Redis, groupId: string, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = await channelSubscribers(redis, groupId);
    if (have === n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} redis subscribers on ${groupChannel(groupId)}, have ${have}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
