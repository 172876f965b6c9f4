/**
 * The message rate limit kept in Redis: every API instance counts against one window per
 * sender, so instances do not multiply the limit; without Redis each instance still counts.
 */
import pino from 'pino';
import { RedisSendRateLimit } from '../../api/src/messages/send-rate-limit';
import { errorCodes, range, startTwoApis, TestApi } from '../support/harness';
import { describeWithRedis, redisUrl } from './support';

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`;
const log = pino({ level: 'silent' });

describeWithRedis('the message rate limit shared through Redis (MESSAGE_RATE_PER_MINUTE 6)', () => {
  let a: TestApi;
  let b: TestApi;

  beforeAll(async () => {
    [a, b] = await startTwoApis({ REDIS_URL: redisUrl(), MESSAGE_RATE_PER_MINUTE: '6' });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('admits exactly 6 of 12 parallel sends by one person spread over two instances; the rest are RATE_LIMITED and store nothing', async () => {
    const [alice, bob] = await a.users(2);
    const groupId = await a.group(alice, [bob]);
    const results = await Promise.all(
      range(1, 12).map((i) => (i % 2 ? a : b).gql(alice.token, SEND, { i: { groupId, body: `burst ${i}`, clientMessageId: `burst-${i}` } })),
    );
    const codes = results.map((r) => errorCodes(r)[0] ?? 'sent');
    expect(codes.filter((c) => c === 'sent')).toHaveLength(6);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(6);
    const [{ n }] = await a.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE group_id = $1`, [groupId]);
    expect(n).toBe(6);
    // Bob has a window of his own.
    expect((await b.gql(bob.token, SEND, { i: { groupId, body: 'mine', clientMessageId: 'bob-1' } })).errors).toBeUndefined();
  });
});

describeWithRedis('RedisSendRateLimit', () => {
  it('reopens a sender once the window has passed', async () => {
    const limit = new RedisSendRateLimit(redisUrl(), 2, 300, log);
    try {
      const sender = `window-${process.pid}-${Date.now()}`;
      expect(await limit.take(sender)).toBe(0);
      expect(await limit.take(sender)).toBe(0);
      const wait = await limit.take(sender);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(300);
      await new Promise((r) => setTimeout(r, wait + 50));
      expect(await limit.take(sender)).toBe(0);
    } finally {
      await limit.close();
    }
  });
});

describe('RedisSendRateLimit with Redis unreachable', () => {
  it('counts in the instance instead of failing the send or letting everything through', async () => {
    // Nothing listens on port 1: every command fails at once (no offline queue).
    const limit = new RedisSendRateLimit('redis://127.0.0.1:1', 3, 60_000, log);
    try {
      const waits = [];
      for (let i = 0; i < 5; i++) waits.push(await limit.take('offline-sender'));
      expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
      expect(waits[3]).toBeGreaterThan(0);
      expect(waits[4]).toBeGreaterThan(0);
    } finally {
      await limit.close();
    }
  });
});
