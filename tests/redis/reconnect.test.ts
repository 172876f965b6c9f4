/**
 * Redis pub/sub does not keep what is published while a listener is disconnected: after
 * a reconnect the process reads what its subscribers missed from the event log.
 */
import Redis from 'ioredis';
import { startTwoApis, TestApi } from '../support/harness';
import { channelSubscribers, describeWithRedis, redisUrl, untilChannelSubscribers } from './support';

describeWithRedis('a lost Redis connection', () => {
  let a: TestApi;
  let b: TestApi;
  let redis: Redis;

  beforeAll(async () => {
    [a, b] = await startTwoApis({ REDIS_URL: redisUrl() });
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.quit();
  });

  it('delivers a message published while the listener was offline once it is back', async () => {
    const [alice, bob] = await a.users(2);
    const groupId = await a.group(alice, [bob]);
    const sub = a.subscribe(bob.token, groupId);
    await untilChannelSubscribers(redis, groupId, 1);

    // Take A's listening connection down, and keep it down long enough to publish.
    const listener = (a.app.services.bus as unknown as { sub: Redis }).sub;
    listener.options.retryStrategy = () => 700;
    listener.disconnect(true);
    await untilChannelSubscribers(redis, groupId, 0);

    const sent = await b.send(alice, groupId, 'sent while A was not listening');
    // Nobody was listening when B published: only the event log has the message now.
    expect(await channelSubscribers(redis, groupId)).toBe(0);

    const events = await sub.until((e) => e.some((x) => x.message?.id === sent.id), 8000);
    expect(events.filter((x) => x.message?.id === sent.id)).toHaveLength(1);
    expect(sub.completed).toBe(false);
  });
});
