import { liveSubscription, startApi, TestApi } from './support/harness';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

it('delivers a sent message to a member subscribed over graphql-ws', async () => {
  const [alice, bob] = await api.users(2);
  const groupId = await api.group(alice, [bob]);
  // Live before the send: the group's newest event has arrived (a fixed wait was not enough on a busy machine).
  const { events: sub } = await liveSubscription(api, bob, groupId);
  const sent = await api.send(alice, groupId, 'hello @' + bob.username);
  const events = await sub.until((e) => e.some((x) => x.type === 'MESSAGE_CREATED'));
  const created = events.find((x) => x.type === 'MESSAGE_CREATED');
  expect(created.message).toMatchObject({ id: sent.id, body: sent.body, author: { id: alice.id } });
  expect(created.seq).toBe(sent.seq);
});
