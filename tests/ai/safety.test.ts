/**
 * Safety in groups (docs/product.md §6): the TEEN profile follows the members in the join
 * transaction and brings a stricter prompt and stricter moderation, also for a reply
 * already under way; moderation failures fail closed for TEEN groups; flagged human
 * messages open cases and, in TEEN groups, high-severity ones are hidden until reviewed.
 */
import { TEEN_RULES } from '../../api/src/domain/prompt/build-prompt';
import { FakeOpenAI, MODERATION_KEYS } from '../support/fake-openai';
import { eventually, TestApi } from '../support/harness';
import {
  aiMessages,
  history,
  joinByInvite,
  ofType,
  safetyProfileOf,
  settled,
  startAiApi,
  systemText,
  tableCount,
  untilAiCompleted,
  untilMessage,
  updateGroup,
  watch,
} from './ai-support';

/** Fine for adults, blocked for a TEEN group by the local classifier (sexual, high under TEEN thresholds). */
const ADULT_ONLY_REPLY = ['Sure! ', 'Here is a site ', 'with free porn ', 'videos for you.'];

let fake: FakeOpenAI;
/** Moderation by the built-in classifier. */
let local: TestApi;
/** Moderation by the provider's endpoint (the fake's /v1/moderations). */
let remote: TestApi;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  [local, remote] = await Promise.all([startAiApi(fake), startAiApi(fake, { OPENAI_MODERATION: 'true' })]);
});
afterEach(async () => {
  await Promise.all([settled(local), settled(remote)]);
  fake.reset();
});
afterAll(async () => {
  await Promise.all([local?.stop(), remote?.stop()]);
  await fake?.stop();
});

describe('a minor joining', () => {
  it('flips the group to TEEN in the join transaction, and the next response gets the stricter system prompt', async () => {
    const api = local;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(alice, [bob]);
    expect(await safetyProfileOf(api, alice, groupId)).toBe('STANDARD');
    await api.send(alice, groupId, '@AI any ideas for Saturday?');
    await settled(api);

    const joined = await joinByInvite(api, alice, groupId, minor);
    expect(joined.safetyProfile).toBe('TEEN');
    expect(await safetyProfileOf(api, bob, groupId)).toBe('TEEN');
    await api.send(bob, groupId, '@AI any ideas for Sunday?');
    await settled(api);

    const [before, after] = fake.chatRequests();
    expect(systemText(before)).not.toContain(TEEN_RULES[0]);
    for (const rule of TEEN_RULES) expect(systemText(after)).toContain(rule);
  });

  it('judges a response already streaming by the stricter policy: it ends BLOCKED, empty, with an AI_BLOCKED case', async () => {
    const api = local;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(alice, [bob]);
    const sub = await watch(api, bob, groupId);
    // The provider holds its reply until the minor has joined: the response is under way meanwhile.
    let release!: () => void;
    const joinedInTime = new Promise<void>((resolve) => (release = resolve));
    fake.onChat(async () => {
      await joinedInTime;
      return { chunks: ADULT_ONLY_REPLY };
    });

    await api.send(alice, groupId, '@AI got any fun ideas for tonight?');
    await fake.waitForChatRequests(1);
    const [streaming] = await api.query(`SELECT id, status FROM messages WHERE group_id = $1 AND kind = 'AI'`, [groupId]);
    expect(streaming.status).toBe('STREAMING');
    expect((await joinByInvite(api, alice, groupId, minor)).safetyProfile).toBe('TEEN');
    release();
    await settled(api);

    const [done] = await untilAiCompleted(sub);
    expect(done.message).toMatchObject({ id: streaming.id, status: 'BLOCKED', body: '' });
    const [reply] = await aiMessages(api, minor, groupId);
    expect(reply).toMatchObject({ id: streaming.id, status: 'BLOCKED', body: '' });
    expect(reply.modelResponse).toMatchObject({ status: 'BLOCKED' });
    const cases = await api.query(`SELECT source, teen, categories FROM safety_cases WHERE message_id = $1`, [streaming.id]);
    expect(cases).toEqual([{ source: 'AI_BLOCKED', teen: true, categories: expect.arrayContaining(['sexual']) }]);
  });

  it('judges a reply by the stricter policy when a minor joins while its output is being moderated', async () => {
    const api = remote;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(alice, [bob]);
    const reply = 'A story with a scene for adults only.';
    // Scores STANDARD flags as low and publishes, and TEEN blocks. The endpoint holds its
    // verdict on the reply until the minor has joined.
    const sexual: Record<string, number> = { sexual: 0.6 };
    let release!: () => void;
    const joinedInTime = new Promise<void>((resolve) => (release = resolve));
    fake.onModeration(async (input) => {
      if (input !== reply) return { flagged: false, category_scores: {} };
      await joinedInTime;
      return { flagged: true, category_scores: sexual };
    });
    fake.enqueue({ text: reply });

    await api.send(alice, groupId, '@AI tell us a bedtime story');
    await eventually(() => fake.moderationRequests().some((r) => r.body.input === reply));
    expect((await joinByInvite(api, alice, groupId, minor)).safetyProfile).toBe('TEEN');
    release();
    await settled(api);

    const [ai] = await aiMessages(api, minor, groupId);
    expect(ai).toMatchObject({ status: 'BLOCKED', statusReason: 'CONTENT_BLOCKED', body: '' });
    expect(ai.modelResponse).toMatchObject({ status: 'BLOCKED' });
    const cases = await api.query(`SELECT source, teen, severity, categories FROM safety_cases WHERE message_id = $1`, [ai.id]);
    expect(cases).toEqual([{ source: 'AI_BLOCKED', teen: true, severity: 'high', categories: ['sexual'] }]);
  });

  it('publishes the same reply in a group that stays STANDARD (control for the test above)', async () => {
    const api = local;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const groupId = await api.group(alice, [bob]);
    fake.enqueue({ chunks: ADULT_ONLY_REPLY });

    await api.send(alice, groupId, '@AI got any fun ideas for tonight?');
    await settled(api);

    const [reply] = await aiMessages(api, bob, groupId);
    expect(reply).toMatchObject({ status: 'COMPLETED', body: ADULT_ONLY_REPLY.join('') });
    expect(await tableCount(api, `SELECT 1 FROM safety_cases WHERE message_id = $1`, [reply.id])).toBe(0);
  });
});

describe('moderation unavailable', () => {
  it('yields no AI output in a TEEN group (a member of unknown age)', async () => {
    const api = remote;
    const adult = await api.user({ age: 'adult' });
    const unknown = await api.user({ age: undefined });
    const groupId = await api.group(adult, [unknown]);
    expect(await safetyProfileOf(api, adult, groupId)).toBe('TEEN');
    const sub = await watch(api, unknown, groupId);
    fake.onModeration(() => 'error');
    fake.onChat(() => ({ text: 'Here is my answer about the weekend.' }));

    await api.send(adult, groupId, '@AI what should we do this weekend?');
    await settled(api);
    const later = await api.send(unknown, groupId, 'ok, we will figure it out');
    await untilMessage(sub, later.id);

    expect(fake.moderationRequests().length).toBeGreaterThan(0);
    const replies = await aiMessages(api, adult, groupId);
    expect(replies.filter((r) => r.status === 'COMPLETED' || r.body !== '')).toEqual([]);
    for (const r of replies) expect(r).toMatchObject({ status: 'BLOCKED', statusReason: 'MODERATION_UNAVAILABLE' });
    expect(ofType(sub, 'AI_DELTA')).toEqual([]);
  });

  it('in a TEEN group, a reply withheld because moderating its output failed costs the author nothing', async () => {
    const api = remote;
    const adult = await api.user({ age: 'adult' });
    const unknown = await api.user({ age: undefined });
    const groupId = await api.group(adult, [unknown]);
    const REPLY = 'Here is my answer about the weekend.';
    const clean = { flagged: false, category_scores: Object.fromEntries(MODERATION_KEYS.map((k) => [k, 0.01])) };
    fake.onModeration((input) => (input.includes(REPLY) ? 'error' : clean));
    fake.onChat(() => ({ text: REPLY }));

    await api.send(adult, groupId, '@AI what should we do this weekend?');
    await settled(api);

    const [reply] = await aiMessages(api, adult, groupId);
    expect(reply).toMatchObject({ status: 'BLOCKED', statusReason: 'MODERATION_UNAVAILABLE', body: '' });
    // Our moderation was down, not the author at fault: the unit is given back (settlement).
    const responses = await api.query(`SELECT charged, status, charged_user_id AS "userId" FROM model_responses WHERE group_id = $1`, [groupId]);
    expect(responses).toEqual([{ charged: false, status: 'BLOCKED', userId: adult.id }]);
  });

  it('falls back to the local classifier in a STANDARD group and answers', async () => {
    const api = remote;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const groupId = await api.group(alice, [bob]);
    expect(await safetyProfileOf(api, alice, groupId)).toBe('STANDARD');
    fake.onModeration(() => 'error');
    fake.enqueue({ text: 'Try the night market on Saturday.' });

    await api.send(alice, groupId, '@AI what should we do this weekend?');
    await settled(api);

    expect(fake.moderationRequests().length).toBeGreaterThan(0);
    const [reply] = await aiMessages(api, bob, groupId);
    expect(reply).toMatchObject({ status: 'COMPLETED', body: 'Try the night market on Saturday.' });
  });

  it('uses the moderation endpoint when it works: its verdict on the output blocks the reply', async () => {
    const api = remote;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const groupId = await api.group(alice, [bob]);
    const violent: Record<string, number> = { violence: 0.97, 'violence/graphic': 0.9 };
    fake.onModeration((input) => (input.includes('zorblax') ? { flagged: true, category_scores: violent } : { flagged: false, category_scores: {} }));
    fake.enqueue({ text: 'The zorblax plan is fine.' });

    await api.send(alice, groupId, '@AI is the plan fine?');
    await settled(api);

    expect(fake.moderationRequests().map((r) => r.body.input)).toEqual(expect.arrayContaining(['The zorblax plan is fine.']));
    const [reply] = await aiMessages(api, bob, groupId);
    expect(reply).toMatchObject({ status: 'BLOCKED', body: '' });
    const [c] = await api.query(`SELECT source, teen, categories FROM safety_cases WHERE message_id = $1`, [reply.id]);
    expect(c).toEqual({ source: 'AI_BLOCKED', teen: false, categories: ['violence'] });
  });
});

describe('streaming text before moderation', () => {
  it('is never shown in a TEEN group: the reply appears whole, moderated, with AI_COMPLETED', async () => {
    const api = local;
    const adult = await api.user({ age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(adult, [minor]);
    const sub = await watch(api, minor, groupId);
    fake.enqueue({ chunks: ['Try ', 'the ', 'science ', 'museum.'], chunkDelayMs: 5 });

    await api.send(adult, groupId, '@AI any ideas for a rainy day?');
    const [done] = await untilAiCompleted(sub);
    expect(done.message).toMatchObject({ status: 'COMPLETED', body: 'Try the science museum.' });
    expect(ofType(sub, 'AI_DELTA')).toHaveLength(0);
  });

  it('stops in a STANDARD group from the moment someone joins while the reply streams', async () => {
    const api = local;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(alice, [bob]);
    const sub = await watch(api, bob, groupId);
    // The first part streams at once, the second well after the minor has joined.
    fake.enqueue({ chunks: ['First part. ', 'Second part.'], chunkDelayMs: 1500 });

    await api.send(alice, groupId, '@AI what should we cook tonight?');
    await sub.events.until((e) => e.some((x) => x.type === 'AI_DELTA'));
    await joinByInvite(api, alice, groupId, minor);
    const [done] = await untilAiCompleted(sub);

    const events = sub.events.events;
    const joinIndex = events.findIndex((x) => x.type === 'MEMBER_JOINED' && x.member?.user?.id === minor.id);
    expect(joinIndex).toBeGreaterThan(-1);
    expect(events.slice(0, joinIndex).filter((x) => x.type === 'AI_DELTA').map((x) => x.delta.text)).toEqual(['First part. ']);
    expect(events.slice(joinIndex).filter((x) => x.type === 'AI_DELTA')).toHaveLength(0);
    expect(done.message).toMatchObject({ status: 'COMPLETED', body: 'First part. Second part.' });
  });
});

describe('human messages after delivery', () => {
  const SET = `seq type message { id status body }`;

  it('in a TEEN group hides a high-severity message from everyone until reviewed, and opens a case', async () => {
    const api = local;
    const adult = await api.user({ age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(adult, [minor]);
    expect(await safetyProfileOf(api, adult, groupId)).toBe('TEEN');
    const sub = await watch(api, minor, groupId);

    const threat = await api.send(adult, groupId, 'I will kill you');
    await settled(api);

    const updated = await sub.events.until((e) => e.some((x) => x.type === 'MESSAGE_UPDATED' && x.message?.id === threat.id));
    expect(updated.find((x) => x.type === 'MESSAGE_UPDATED').message).toMatchObject({ id: threat.id, status: 'HIDDEN', body: '' });
    for (const viewer of [adult, minor]) {
      const m = (await history(api, viewer, groupId)).find((x) => x.id === threat.id)!;
      expect(m).toMatchObject({ status: 'HIDDEN', body: '' });
    }
    // A client replaying the stream sees the hidden state too.
    const replay = api.subscribe(minor.token, groupId, threat.seq - 1, SET);
    const [created] = await replay.until((e) => e.some((x) => x.type === 'MESSAGE_CREATED'));
    expect(created.message).toMatchObject({ id: threat.id, status: 'HIDDEN', body: '' });
    const cases = await api.query(`SELECT source, severity, teen, author_id AS "authorId", categories FROM safety_cases WHERE message_id = $1`, [threat.id]);
    expect(cases).toEqual([{ source: 'AUTO_FLAG', severity: 'high', teen: true, authorId: adult.id, categories: ['violence'] }]);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('with the AI off, still hides a high-severity message in a TEEN group and opens a case (the group state comes from the send)', async () => {
    const api = local;
    const adult = await api.user({ age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(adult, [minor]);
    expect((await updateGroup(api, adult, groupId, { aiMode: 'OFF' })).aiMode).toBe('OFF');

    const threat = await api.send(adult, groupId, 'I will kill you');
    const calm = await api.send(adult, groupId, '@AI what time is it in Osaka?');
    await settled(api);

    const seen = await history(api, minor, groupId);
    expect(seen.find((x) => x.id === threat.id)).toMatchObject({ status: 'HIDDEN', body: '' });
    expect(seen.find((x) => x.id === calm.id)).toMatchObject({ status: 'SENT' });
    const cases = await api.query(`SELECT source, severity, teen, categories FROM safety_cases WHERE group_id = $1`, [groupId]);
    expect(cases).toEqual([{ source: 'AUTO_FLAG', severity: 'high', teen: true, categories: ['violence'] }]);
    expect(seen.filter((x) => x.kind === 'AI')).toEqual([]);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('moderates an edit too: a message edited into a threat in a TEEN group is hidden and opens a case', async () => {
    const api = local;
    const adult = await api.user({ age: 'adult' });
    const minor = await api.user({ age: 'minor' });
    const groupId = await api.group(adult, [minor]);
    const msg = await api.send(adult, groupId, 'see you at the park');
    await settled(api);
    expect(await api.query(`SELECT source, categories, excerpt FROM safety_cases WHERE message_id = $1`, [msg.id])).toEqual([]);

    await api.ok(adult.token, `mutation($id: ID!, $b: String!) { editMessage(messageId: $id, body: $b) { id } }`, { id: msg.id, b: 'I will kill you' });
    await settled(api);

    const m = (await history(api, minor, groupId)).find((x) => x.id === msg.id)!;
    expect(m).toMatchObject({ status: 'HIDDEN', body: '' });
    const cases = await api.query(`SELECT source, teen FROM safety_cases WHERE message_id = $1`, [msg.id]);
    expect(cases).toEqual([{ source: 'AUTO_FLAG', teen: true }]);
  });

  it('in a STANDARD group keeps a flagged but not high-severity message visible and opens a case', async () => {
    const api = local;
    const [alice, bob] = await api.users(2, { age: 'adult' });
    const groupId = await api.group(alice, [bob]);
    const sub = await watch(api, alice, groupId);

    const insult = await api.send(bob, groupId, 'you are such a fucking idiot');
    await settled(api);
    const later = await api.send(alice, groupId, 'wow, ok');
    await untilMessage(sub, later.id);

    const m = (await history(api, alice, groupId)).find((x) => x.id === insult.id)!;
    expect(m).toMatchObject({ status: 'SENT', body: 'you are such a fucking idiot' });
    expect(ofType(sub, 'MESSAGE_UPDATED')).toEqual([]);
    const cases = await api.query(`SELECT source, severity, teen, categories FROM safety_cases WHERE message_id = $1`, [insult.id]);
    expect(cases).toEqual([{ source: 'AUTO_FLAG', severity: expect.stringMatching(/^(low|medium)$/), teen: false, categories: ['harassment'] }]);
  });
});
