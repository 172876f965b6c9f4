/**
 * An AI reply has a deadline (issue 10, item 8). AI_TIMEOUT_MS ends once the response
 * headers arrive; a provider that then stops sending kept the reply STREAMING, and the
 * author's unit taken, for as long as it liked, and ended it COMPLETED and charged. Now a
 * silence between tokens past AI_STREAM_IDLE_MS, or a reply still unfinished after
 * AI_REPLY_DEADLINE_MS, ends it FAILED with reason TIMEOUT, gives the unit back and cuts
 * the provider's stream, so nothing it sends later reaches anyone. Group and private
 * replies alike; the provider is the loopback OpenAI fake, made to stall.
 */
import { FakeOpenAI, gate, RecordedRequest } from '../support/fake-openai';
import { eventually, TestApi, TestUser } from '../support/harness';
import { aiMessages, ofType, quotaOf, settled, startAiApi, untilAiCompleted, untilMessage, watch } from '../ai/ai-support';

let fake: FakeOpenAI;
/** Short silence allowed between tokens; the whole-reply deadline far away. */
let idleApi: TestApi;
/** A short whole-reply deadline; any silence between tokens shorter than it is allowed. */
let deadlineApi: TestApi;

const QUOTA = { AI_QUOTA: 'free=3/1h,go=3/1h,plus=3/1h,pro=3/1h' };

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  idleApi = await startAiApi(fake, { ...QUOTA, AI_STREAM_IDLE_MS: '500', AI_REPLY_DEADLINE_MS: '60000' });
  deadlineApi = await startAiApi(fake, { ...QUOTA, AI_STREAM_IDLE_MS: '30000', AI_REPLY_DEADLINE_MS: '1500' });
});
afterEach(async () => {
  await Promise.all([settled(idleApi), settled(deadlineApi)]);
  fake.reset();
});
afterAll(async () => {
  await idleApi?.stop();
  await deadlineApi?.stop();
  await fake?.stop();
});

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

const STORY = ['Once ', 'upon ', 'a time ', 'there ', 'was ', 'a ', 'train.'];
/** A steady drip: a token every 40 ms for 16 s, never silent for long, never done in time. */
const DRIP = { chunks: Array.from({ length: 400 }, (_, i) => `w${i} `), chunkDelayMs: 40 };

async function responseRow(api: TestApi, groupId: string) {
  const [row] = await api.query(`SELECT charged, status, status_reason AS reason FROM model_responses WHERE group_id = $1`, [groupId]);
  return row;
}

/**
 * Mentions the AI in a fresh group with the fake replying `reply`; waits for the reply's
 * AI_COMPLETED and returns it with what the subscriber saw and the provider request.
 */
async function groupReply(api: TestApi, reply: Parameters<FakeOpenAI['enqueue']>[0]) {
  const alice = await api.user({ plan: 'free' });
  const groupId = await api.group(alice);
  const sub = await watch(api, alice, groupId);
  expect((await quotaOf(api, alice)).used).toBe(0);
  fake.enqueue(reply);
  await api.send(alice, groupId, '@AI tell us a long story about trains');
  const [request] = await fake.waitForChatRequests(1);
  const [done] = await untilAiCompleted(sub);
  return { alice, groupId, sub, done, request };
}

/** After the timeout: the provider's stream was cut, and nothing more reached the group. */
async function assertNothingAfter(api: TestApi, alice: TestUser, groupId: string, sub: Awaited<ReturnType<typeof watch>>, aiMessageId: string, request: RecordedRequest) {
  await eventually(() => request.aborted === true);
  expect(request.resumed).not.toBe(true);
  // A later message is the marker: every event up to it is in, and none of them is more AI text.
  const marker = await api.send(alice, groupId, 'ok, never mind');
  await untilMessage(sub, marker.id);
  const events = sub.events.events;
  const completedAt = events.findIndex((e) => e.type === 'AI_COMPLETED' && e.message.id === aiMessageId);
  expect(events.slice(completedAt + 1).filter((e) => e.type === 'AI_DELTA' || e.type === 'AI_COMPLETED')).toEqual([]);
  const [stored] = await aiMessages(api, alice, groupId);
  expect(stored).toMatchObject({ id: aiMessageId, status: 'FAILED', statusReason: 'TIMEOUT', body: '' });
  expect(stored.modelResponse).toMatchObject({ charged: false, status: 'FAILED' });
}

/** The unit given back is really free again: the next reply is charged, exactly one unit. */
async function assertQuotaStillCounts(api: TestApi, alice: TestUser, groupId: string): Promise<void> {
  expect((await quotaOf(api, alice)).used).toBe(0);
  const sub = await watch(api, alice, groupId);
  await api.send(alice, groupId, '@AI what time is it in Kyoto?');
  const [done] = await untilAiCompleted(sub);
  expect(done.message.status).toBe('COMPLETED');
  await settled(api);
  expect((await quotaOf(api, alice)).used).toBe(1);
}

describe('a group reply', () => {
  it('whose provider goes silent mid-stream ends FAILED (TIMEOUT) after AI_STREAM_IDLE_MS, uncharged, and later text never arrives', async () => {
    const resume = gate();
    try {
      const { alice, groupId, sub, done, request } = await groupReply(idleApi, { chunks: STORY, stallAfterChunks: 2, resume: resume.promise });
      expect(request.stalled).toBe(true);
      expect(done.message).toMatchObject({ kind: 'AI', status: 'FAILED', statusReason: 'TIMEOUT', body: '' });
      // The first tokens did stream before the silence; none after it.
      const streamed = ofType(sub, 'AI_DELTA').map((e) => e.delta.text).join('');
      expect(streamed.length).toBeGreaterThan(0);
      expect('Once upon '.startsWith(streamed)).toBe(true);
      await settled(idleApi);
      expect(await responseRow(idleApi, groupId)).toEqual({ charged: false, status: 'FAILED', reason: 'TIMEOUT' });
      expect((await quotaOf(idleApi, alice)).used).toBe(0);

      resume.open();
      await assertNothingAfter(idleApi, alice, groupId, sub, done.message.id, request);
      await assertQuotaStillCounts(idleApi, alice, groupId);
    } finally {
      resume.open();
    }
  });

  it('that keeps streaming past AI_REPLY_DEADLINE_MS ends FAILED (TIMEOUT), uncharged, and the stream is cut', async () => {
    const { alice, groupId, sub, done, request } = await groupReply(deadlineApi, DRIP);
    expect(done.message).toMatchObject({ kind: 'AI', status: 'FAILED', statusReason: 'TIMEOUT', body: '' });
    expect(ofType(sub, 'AI_DELTA').length).toBeGreaterThan(0);
    await settled(deadlineApi);
    expect(await responseRow(deadlineApi, groupId)).toEqual({ charged: false, status: 'FAILED', reason: 'TIMEOUT' });
    await assertNothingAfter(deadlineApi, alice, groupId, sub, done.message.id, request);
    await assertQuotaStillCounts(deadlineApi, alice, groupId);
  });

  it('whose provider sends headers and then nothing ends FAILED (TIMEOUT) at the deadline', async () => {
    const resume = gate();
    try {
      const { alice, groupId, done, request } = await groupReply(deadlineApi, { text: 'Too late.', stallAfterChunks: 0, resume: resume.promise });
      expect(done.message).toMatchObject({ status: 'FAILED', statusReason: 'TIMEOUT', body: '' });
      await eventually(() => request.aborted === true);
      await settled(deadlineApi);
      expect(await responseRow(deadlineApi, groupId)).toEqual({ charged: false, status: 'FAILED', reason: 'TIMEOUT' });
      expect((await quotaOf(deadlineApi, alice)).used).toBe(0);
    } finally {
      resume.open();
    }
  });
});

describe('a private reply', () => {
  const SEND = `mutation($c: ID!, $b: String!) { sendPrivateMessage(conversationId: $c, body: $b) { reply { id body status statusReason } } }`;
  const MESSAGES = `query($id: ID!) { conversation(id: $id) { messages(first: 100) { role body status statusReason } } }`;

  async function privateReply(api: TestApi, reply: Parameters<FakeOpenAI['enqueue']>[0]) {
    const alice = await api.user({ plan: 'free' });
    const { startConversation } = await api.ok(alice.token, `mutation { startConversation { id } }`);
    const id: string = startConversation.id;
    expect((await quotaOf(api, alice)).used).toBe(0);
    fake.enqueue(reply);
    const sent = await within(api.ok(alice.token, SEND, { c: id, b: 'Tell me a long story about trains' }), 10_000, 'sendPrivateMessage did not answer');
    const [request] = fake.chatRequests();
    return { alice, id, reply: sent.sendPrivateMessage.reply, request };
  }

  async function assertPrivateAfter(api: TestApi, alice: TestUser, id: string, request: RecordedRequest): Promise<void> {
    await eventually(() => request.aborted === true);
    expect(request.resumed).not.toBe(true);
    const { conversation } = await api.ok(alice.token, MESSAGES, { id });
    expect(conversation.messages).toEqual([
      { role: 'USER', body: 'Tell me a long story about trains', status: 'SENT', statusReason: null },
      { role: 'AI', body: '', status: 'FAILED', statusReason: 'TIMEOUT' },
    ]);
    const [row] = await api.query(`SELECT charged, status, status_reason AS reason FROM model_responses WHERE conversation_id = $1`, [id]);
    expect(row).toEqual({ charged: false, status: 'FAILED', reason: 'TIMEOUT' });
    expect((await quotaOf(api, alice)).used).toBe(0);
    // And the unit is there to spend: the next answer is charged, exactly one.
    const next = await api.ok(alice.token, SEND, { c: id, b: 'Shorter, please' });
    expect(next.sendPrivateMessage.reply.status).toBe('COMPLETED');
    expect((await quotaOf(api, alice)).used).toBe(1);
  }

  it('whose provider goes silent mid-stream ends FAILED (TIMEOUT) after AI_STREAM_IDLE_MS, uncharged', async () => {
    const resume = gate();
    try {
      const { alice, id, reply, request } = await privateReply(idleApi, { chunks: STORY, stallAfterChunks: 3, resume: resume.promise });
      expect(request.stalled).toBe(true);
      expect(reply).toMatchObject({ status: 'FAILED', statusReason: 'TIMEOUT', body: '' });
      resume.open();
      await assertPrivateAfter(idleApi, alice, id, request);
    } finally {
      resume.open();
    }
  });

  it('that keeps streaming past AI_REPLY_DEADLINE_MS ends FAILED (TIMEOUT), uncharged', async () => {
    const { alice, id, reply, request } = await privateReply(deadlineApi, DRIP);
    expect(reply).toMatchObject({ status: 'FAILED', statusReason: 'TIMEOUT', body: '' });
    await assertPrivateAfter(deadlineApi, alice, id, request);
  });
});
