/**
 * A suspension reaches the user's sockets in every process: staff suspend through
 * instance A, and the user's socket on instance B is closed (4403 "Account suspended")
 * through the bus's control channel in Redis.
 */
import { createStaff, staffOk, TestStaff } from '../support/admin';
import { startTwoApis, TestApi } from '../support/harness';
import { RawGraphqlWs } from '../support/raw-graphql-ws';
import { describeWithRedis, redisUrl } from './support';

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`;
const closeOf = (s: RawGraphqlWs, ms = 10_000) =>
  Promise.race([s.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms).unref())]);

describeWithRedis('suspension across API instances sharing Redis', () => {
  let a: TestApi;
  let b: TestApi;
  let admin: TestStaff;

  beforeAll(async () => {
    [a, b] = await startTwoApis({ REDIS_URL: redisUrl() });
    admin = await createStaff(a, { role: 'admin' });
    // Both buses listen on the control channel (the first listener of a bus waits for SUBSCRIBE).
    await Promise.all([a.app.services.bus.onControl(() => {}), b.app.services.bus.onControl(() => {})]);
  });
  afterAll(async () => {
    await RawGraphqlWs.closeAll();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('closes the suspended user\'s socket on B when an admin suspends them through A', async () => {
    const [alice, bob] = await a.users(2);
    const groupId = await a.group(alice, [bob]);
    const onB = await RawGraphqlWs.connect(b.wsUrl, alice.token);
    const bobOnB = await RawGraphqlWs.connect(b.wsUrl, bob.token);
    expect((await onB.run(SEND, { i: { groupId, body: 'hi from B', clientMessageId: 'b-1' } })).errors).toBeUndefined();

    await staffOk(a, admin.token, `mutation($id: ID!) { suspendUser(id: $id, reason: "spam") { suspended } }`, { id: alice.id });

    expect(await closeOf(onB)).toEqual({ code: 4403, reason: 'Account suspended' });
    expect(bobOnB.isOpen).toBe(true);
    // Back on B with a new socket, the user reads but does not write.
    const again = await RawGraphqlWs.connect(b.wsUrl, alice.token);
    const r = await again.run(SEND, { i: { groupId, body: 'and again', clientMessageId: 'b-2' } });
    expect(r.errors?.[0]?.extensions?.code).toBe('SUSPENDED');
    expect((await again.run(`query($g: ID!) { group(id: $g) { id } }`, { g: groupId })).data.group.id).toBe(groupId);
  });
});
