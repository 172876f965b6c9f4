/**
 * "Catch me up" (issue 12, item 1): a private summary, for the viewer alone, of the
 * messages after their read position, through the `ai.catch-up` job and the reply
 * pipeline, charged to the viewer, read again through Membership.lastCatchUp.
 */
import { FakeOpenAI } from '../support/fake-openai';
import { TestApi, TestUser } from '../support/harness';
import { aiFixture, joinByInvite, ofType, promptOf, quotaOf, settled, startAiApi, tableCount, untilMessage, updateGroup, watch } from './ai-support';

const CATCH_UP = `mutation($g: ID!) { catchUp(groupId: $g) { id status body afterSeq } }`;
const MARK_READ = `mutation($g: ID!, $s: Int!) { markRead(groupId: $g, seq: $s) }`;
const LAST = `query($g: ID!) { group(id: $g) { myMembership { lastCatchUp { id status statusReason body afterSeq fromSeq toSeq messageCount } } } }`;
const REQUEST = 'Catch me up on the messages above.';

const ai = aiFixture();
let fake: FakeOpenAI;
let api: TestApi;
beforeAll(() => {
  ({ fake, api } = ai);
});

/** A group with the AI answering mentions only, so the messages below get no reply of their own. */
async function quietGroup(owner: TestUser, others: TestUser[]): Promise<string> {
  const groupId = await api.group(owner, others);
  await updateGroup(api, owner, groupId, { aiMode: 'MENTIONS' });
  return groupId;
}

async function catchUp(user: TestUser, groupId: string) {
  const started = (await api.ok(user.token, CATCH_UP, { g: groupId })).catchUp;
  await settled(api);
  const last = (await api.ok(user.token, LAST, { g: groupId })).group.myMembership.lastCatchUp;
  return { started, last };
}

/** The unread messages in a catch-up request: everything between the system message and the request. */
function unreadIn(request: ReturnType<FakeOpenAI['chatRequests']>[number]): string[] {
  const turns = promptOf(request);
  expect(turns[0].role).toBe('system');
  expect(turns.at(-1)).toMatchObject({ role: 'user', content: REQUEST });
  return turns.slice(1, -1).map((t) => t.content);
}

it('streams to the viewer alone, is stored for them to read again, and is charged to them', async () => {
  const [alice, bob, carol] = await api.users(3);
  const groupId = await quietGroup(alice, [bob, carol]);
  const [aliceSub, bobSub] = await Promise.all([watch(api, alice, groupId), watch(api, bob, groupId)]);
  await api.send(bob, groupId, 'Shall we meet at the station at 7?');
  const last = await api.send(carol, groupId, 'Yes, 7 works, I booked the ramen place.');
  await untilMessage(bobSub, last.id);
  fake.enqueue({ chunks: ['Bob and Carol ', 'will meet at 7; ', 'Carol booked ramen.'], usage: { prompt_tokens: 50, completion_tokens: 9 } });

  const { started, last: stored } = await catchUp(alice, groupId);
  const done = ofType(aliceSub, 'CATCH_UP_COMPLETED');

  expect(started.status).toMatch(/PENDING|STREAMING|COMPLETED/);
  expect(done).toHaveLength(1);
  expect(done[0]).toMatchObject({ seq: null });
  expect(ofType(aliceSub, 'CATCH_UP_DELTA').map((e) => e.delta.text).join('')).toBe('Bob and Carol will meet at 7; Carol booked ramen.');
  expect(stored).toMatchObject({ id: started.id, status: 'COMPLETED', body: 'Bob and Carol will meet at 7; Carol booked ramen.', messageCount: 2 });
  // Nobody else sees it, or anything of it, and it is not a message in the thread.
  expect(ofType(bobSub, 'CATCH_UP_DELTA')).toEqual([]);
  expect(ofType(bobSub, 'CATCH_UP_COMPLETED')).toEqual([]);
  expect(await tableCount(api, `SELECT 1 FROM messages WHERE group_id = $1 AND kind = 'AI'`, [groupId])).toBe(0);
  expect((await api.ok(bob.token, LAST, { g: groupId })).group.myMembership.lastCatchUp).toBeNull();
  // Charged to the viewer, and to nobody else.
  const responses = await api.query(`SELECT charged_user_id AS "userId", charged, status FROM model_responses WHERE group_id = $1`, [groupId]);
  expect(responses).toEqual([{ userId: alice.id, charged: true, status: 'COMPLETED' }]);
  expect((await quotaOf(api, alice)).used).toBe(1);
  expect((await quotaOf(api, bob)).used).toBe(0);
});

it('sends the provider exactly the unread window: after the read position, no hidden or deleted message, nobody\'s memory', async () => {
  const [alice, bob] = await api.users(2);
  const groupId = await quietGroup(alice, [bob]);
  await api.ok(alice.token, `mutation($t: String!) { addMemory(text: $t) { id } }`, { t: 'Alice is secretly planning a surprise party' });
  await api.send(bob, groupId, 'old news, already read');
  const read = await api.send(alice, groupId, 'I read everything up to here');
  await api.ok(alice.token, MARK_READ, { g: groupId, s: read.seq });
  const kept1 = await api.send(bob, groupId, 'The museum opens at 9');
  const deleted = await api.send(bob, groupId, 'oops, wrong group');
  await api.ok(bob.token, `mutation($m: ID!) { deleteMessage(messageId: $m) { id } }`, { m: deleted.id });
  const hidden = await api.send(bob, groupId, 'this one staff will hide');
  await api.query(`UPDATE messages SET status = 'HIDDEN', status_reason = 'UNDER_REVIEW' WHERE id = $1`, [hidden.id]);
  const kept2 = await api.send(bob, groupId, 'Tickets are 15 euros');
  fake.enqueue({ text: 'The museum opens at 9 and tickets are 15 euros.' });

  const { last } = await catchUp(alice, groupId);

  const [request] = fake.chatRequests();
  const unread = unreadIn(request);
  expect(unread).toHaveLength(2);
  expect(unread[0]).toContain('The museum opens at 9');
  expect(unread[1]).toContain('Tickets are 15 euros');
  const sent = JSON.stringify(request.body);
  for (const gone of ['old news', 'I read everything', 'wrong group', 'staff will hide', 'surprise party']) expect(sent).not.toContain(gone);
  expect(last).toMatchObject({ status: 'COMPLETED', afterSeq: read.seq, fromSeq: kept1.seq, toSeq: kept2.seq, messageCount: 2 });
});

it('with nothing unread, answers at once without the provider and charges nothing', async () => {
  const [alice, bob] = await api.users(2);
  const groupId = await quietGroup(alice, [bob]);
  const sub = await watch(api, alice, groupId);
  const mine = await api.send(alice, groupId, 'I am the last one to write');
  await api.ok(alice.token, MARK_READ, { g: groupId, s: mine.seq });

  const { last } = await catchUp(alice, groupId);

  expect(fake.chatRequests()).toHaveLength(0);
  expect(last).toMatchObject({ status: 'COMPLETED', messageCount: 0, body: expect.stringMatching(/caught up/) });
  expect(ofType(sub, 'CATCH_UP_COMPLETED')).toHaveLength(1);
  expect(await tableCount(api, `SELECT 1 FROM model_responses WHERE group_id = $1`, [groupId])).toBe(0);
  expect((await quotaOf(api, alice)).used).toBe(0);
});

it('gives a member who joined late nothing from before their join', async () => {
  const [alice, bob, carol] = await api.users(3);
  const groupId = await quietGroup(alice, [bob]);
  await api.send(alice, groupId, 'before carol: the secret gift is a bike');
  await api.send(bob, groupId, 'before carol: do not tell her');
  await joinByInvite(api, alice, groupId, carol);
  await api.send(bob, groupId, 'Welcome Carol! We meet on Friday.');
  fake.enqueue({ text: 'You were welcomed; the group meets on Friday.' });

  const { last } = await catchUp(carol, groupId);

  const unread = unreadIn(fake.chatRequests()[0]);
  expect(unread).toHaveLength(1);
  expect(unread[0]).toContain('We meet on Friday');
  expect(JSON.stringify(fake.chatRequests()[0].body)).not.toContain('before carol');
  expect(last).toMatchObject({ status: 'COMPLETED', messageCount: 1 });
});

it('ten parallel requests start one catch-up and charge one unit', async () => {
  const [alice, bob] = await api.users(2);
  const groupId = await quietGroup(alice, [bob]);
  await api.send(bob, groupId, 'Something Alice has not read');
  fake.enqueue({ text: 'Bob said something.', firstChunkDelayMs: 200 });

  const started = await Promise.all(Array.from({ length: 10 }, () => api.ok(alice.token, CATCH_UP, { g: groupId })));
  await settled(api);

  expect(new Set(started.map((s) => s.catchUp.id)).size).toBe(1);
  expect(fake.chatRequests()).toHaveLength(1);
  expect((await quotaOf(api, alice)).used).toBe(1);
});

it('is NOT_FOUND for a non-member, exactly as for a group that does not exist', async () => {
  const [alice, bob, mallory] = await api.users(3);
  const groupId = await quietGroup(alice, [bob]);
  const codes = async (g: string) => (await api.gql(mallory.token, CATCH_UP, { g })).errors?.map((e: any) => e.extensions.code);
  expect(await codes(groupId)).toEqual(['NOT_FOUND']);
  expect(await codes('00000000-0000-4000-8000-000000000000')).toEqual(['NOT_FOUND']);
  expect(await tableCount(api, `SELECT 1 FROM catch_ups WHERE group_id = $1`, [groupId])).toBe(0);
});

it('in a TEEN group follows the stricter policy, shows nothing before moderation, and fails closed when moderation is down', async () => {
  // The provider's moderation endpoint (the fake), so that it can fail.
  const remote = await startAiApi(fake, { OPENAI_MODERATION: 'true' });
  try {
    const adult = await remote.user({ age: 'adult' });
    const minor = await remote.user({ age: 'minor' });
    const groupId = await remote.group(adult, [minor]);
    await updateGroup(remote, adult, groupId, { aiMode: 'MENTIONS' });
    const sub = await watch(remote, adult, groupId);
    await remote.send(minor, groupId, 'Can we go to the skate park on Saturday?');
    const SUMMARY = 'The group wants to go to the skate park on Saturday.';
    fake.onModeration((input) => (input.includes(SUMMARY) ? 'error' : { flagged: false, category_scores: {} }));
    fake.enqueue({ chunks: ['The group wants to go ', 'to the skate park on Saturday.'] });

    await remote.ok(adult.token, CATCH_UP, { g: groupId });
    await settled(remote);
    const last = (await remote.ok(adult.token, LAST, { g: groupId })).group.myMembership.lastCatchUp;

    expect(promptOf(fake.chatRequests()[0])[0].content).toMatch(/includes minors/);
    expect(ofType(sub, 'CATCH_UP_DELTA')).toEqual([]);
    expect(ofType(sub, 'CATCH_UP_COMPLETED')).toHaveLength(1);
    expect(last).toMatchObject({ status: 'BLOCKED', statusReason: 'MODERATION_UNAVAILABLE', body: '' });
    expect((await quotaOf(remote, adult)).used).toBe(0);
  } finally {
    await remote.stop();
  }
});

it('with the quota spent, ends FAILED QUOTA_EXCEEDED without asking the model, and tells the viewer alone when it resets', async () => {
  const limited = await startAiApi(fake, { AI_QUOTA: 'free=1/1h' });
  try {
    const alice = await limited.user({ plan: 'free' });
    const bob = await limited.user();
    const groupId = await limited.group(alice, [bob]);
    await updateGroup(limited, alice, groupId, { aiMode: 'MENTIONS' });
    const [aliceSub, bobSub] = await Promise.all([watch(limited, alice, groupId), watch(limited, bob, groupId)]);
    await limited.send(bob, groupId, 'First news');
    fake.enqueue({ text: 'Bob shared the first news.' });
    await limited.ok(alice.token, CATCH_UP, { g: groupId });
    await settled(limited);
    await limited.send(bob, groupId, 'Second news');

    await limited.ok(alice.token, CATCH_UP, { g: groupId });
    await settled(limited);
    const last = (await limited.ok(alice.token, LAST, { g: groupId })).group.myMembership.lastCatchUp;

    expect(last).toMatchObject({ status: 'FAILED', statusReason: 'QUOTA_EXCEEDED', body: '' });
    expect(fake.chatRequests()).toHaveLength(1);
    expect((await quotaOf(limited, alice)).used).toBe(1);
    const [notice] = ofType(aliceSub, 'QUOTA_NOTICE');
    expect(notice.notice).toMatchObject({ code: 'QUOTA_EXCEEDED', resetsAt: expect.any(String) });
    expect(ofType(bobSub, 'QUOTA_NOTICE')).toEqual([]);
  } finally {
    await limited.stop();
  }
});
