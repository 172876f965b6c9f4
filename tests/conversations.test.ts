/**
 * Private conversations and personal memory (docs/product.md §5), through GraphQL into
 * PostgreSQL, with the model provider played by a loopback OpenAI-compatible server.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomUUID } from 'node:crypto';
import { errorOf, startApi, TestApi, TestUser } from './support/harness';
import { FakeOpenAI, RecordedRequest } from './support/fake-openai';

let fake: FakeOpenAI;
let api: TestApi;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  api = await startApi({
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    AI_MAX_RETRIES: '0',
    AI_QUOTA: 'free=1/1h',
    OPENAI_MODERATION: 'true',
  });
});
afterEach(() => fake.reset());
afterAll(async () => {
  await api.stop();
  await fake.stop();
});

const MESSAGE = `id conversationId seq role body status statusReason createdAt`;
const START = `mutation($t: String) { startConversation(title: $t) { id title lastSeq createdAt updatedAt } }`;
const SEND = `mutation($c: ID!, $b: String!) {
  sendPrivateMessage(conversationId: $c, body: $b) {
    message { ${MESSAGE} } reply { ${MESSAGE} } memorySaved { id text source } memoryFull quotaResetsAt
  }
}`;
const CONVERSATION = `query($id: ID!) { conversation(id: $id) { id title lastSeq updatedAt messages(first: 100) { ${MESSAGE} } } }`;
const CONVERSATIONS = `{ conversations { id title createdAt updatedAt messages { id seq role body status } } }`;
const MEMORIES = `{ memories { id text source createdAt } }`;
const ADD_MEMORY = `mutation($t: String!) { addMemory(text: $t) { id text source createdAt } }`;
const DELETE_MEMORY = `mutation($id: ID!) { deleteMemory(id: $id) }`;
const CREATE_GROUP = `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id title lastSeq } }`;
const GROUP_MESSAGES = `query($g: ID!) { messages(groupId: $g, first: 100) { edges { node { id seq kind body status author { id } } } } }`;
const QUOTA = `{ me { quota { used remaining } } }`;

async function start(user: TestUser, title: string | null = null): Promise<string> {
  const r = await api.ok(user.token, START, { t: title });
  return r.startConversation.id;
}

async function send(user: TestUser, conversationId: string, body: string): Promise<any> {
  const r = await api.ok(user.token, SEND, { c: conversationId, b: body });
  return r.sendPrivateMessage;
}

const systemText = (req: RecordedRequest): string =>
  (req.body.messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'system').map((m) => m.content).join('\n');

const promptText = (req: RecordedRequest): string => JSON.stringify(req.body.messages);

/** Safety cases opened for a private conversation. */
function cases(conversationId: string): Promise<any[]> {
  return api.query(
    `SELECT source, group_id AS "groupId", message_id AS "messageId", author_id AS "authorId", teen, excerpt, categories, severity, details
       FROM safety_cases WHERE details->>'conversationId' = $1 ORDER BY created_at`,
    [conversationId],
  );
}

async function charges(conversationId: string): Promise<Array<{ charged: boolean; status: string; statusReason: string | null; messageId: string | null }>> {
  return api.query(
    `SELECT charged, status, status_reason AS "statusReason", message_id AS "messageId" FROM model_responses
      WHERE conversation_id = $1 ORDER BY created_at`,
    [conversationId],
  );
}

describe('private conversations', () => {
  it('stores the message and the AI reply as consecutive seqs, and records the charged response', async () => {
    const alice = await api.user();
    const id = await start(alice, 'Trip ideas');
    fake.enqueue({ text: 'Kyoto in autumn is lovely.', usage: { prompt_tokens: 42, completion_tokens: 7 } });

    const ex = await send(alice, id, 'Where should I travel in November?');

    expect(ex.message).toMatchObject({ conversationId: id, seq: 1, role: 'USER', status: 'SENT', body: 'Where should I travel in November?' });
    expect(ex.reply).toMatchObject({ conversationId: id, seq: 2, role: 'AI', status: 'COMPLETED', statusReason: null, body: 'Kyoto in autumn is lovely.' });
    expect(ex.memorySaved).toBeNull();
    expect(ex.quotaResetsAt).toBeNull();

    const [req] = fake.chatRequests();
    expect(req.body.stream).toBe(true);
    expect(req.body.messages.at(-1)).toEqual({ role: 'user', content: 'Where should I travel in November?' });

    const [row] = await api.query(
      `SELECT charged, status, charged_user_id AS "chargedUserId", message_id AS "messageId", trigger_message_id AS "triggerId",
              prompt_tokens AS "promptTokens", completion_tokens AS "completionTokens", latency_ms AS "latencyMs", group_id AS "groupId"
         FROM model_responses WHERE conversation_id = $1`,
      [id],
    );
    expect(row).toMatchObject({
      charged: true,
      status: 'COMPLETED',
      chargedUserId: alice.id,
      messageId: ex.reply.id,
      triggerId: ex.message.id,
      promptTokens: 42,
      completionTokens: 7,
      groupId: null,
    });
    expect(row.latencyMs).toBeGreaterThanOrEqual(0);

    const read = await api.ok(alice.token, CONVERSATION, { id });
    expect(read.conversation.lastSeq).toBe(2);
    expect(read.conversation.messages.map((m: any) => [m.seq, m.role])).toEqual([[1, 'USER'], [2, 'AI']]);
  });

  it('sends the conversation so far as user and assistant turns', async () => {
    const alice = await api.user();
    const id = await start(alice);
    fake.enqueue({ text: 'Hello Alice!' });
    await send(alice, id, 'Hi, I am Alice.');
    await send(alice, id, 'What is my name?');

    const [, second] = fake.chatRequests();
    expect(second.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Hi, I am Alice.' },
      { role: 'assistant', content: 'Hello Alice!' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('lists the caller\'s conversations newest first, each with its messages oldest first, and titles an untitled one from its first message', async () => {
    const alice = await api.user();
    const first = await start(alice, 'First');
    const second = await start(alice);
    await send(alice, first, 'one');
    await send(alice, second, 'Plan a picnic for Saturday');

    const { conversations } = await api.ok(alice.token, CONVERSATIONS);
    expect(conversations.map((c: any) => c.id)).toEqual([second, first]);
    expect(conversations[0].title).toBe('Plan a picnic for Saturday');
    expect(conversations[1].title).toBe('First');
    expect(conversations[0].messages.map((m: any) => m.seq)).toEqual([1, 2]);
    expect(conversations[0].messages[0]).toMatchObject({ role: 'USER', body: 'Plan a picnic for Saturday' });
  });

  it('pages messages: the newest `first`, oldest first, and older ones with `before`', async () => {
    const alice = await api.user();
    const id = await start(alice);
    for (const body of ['a', 'b', 'c']) await send(alice, id, body);
    const q = `query($id: ID!, $f: Int, $b: Int) { conversation(id: $id) { messages(first: $f, before: $b) { seq } } }`;
    const latest = await api.ok(alice.token, q, { id, f: 2 });
    expect(latest.conversation.messages.map((m: any) => m.seq)).toEqual([5, 6]);
    const older = await api.ok(alice.token, q, { id, f: 10, b: 5 });
    expect(older.conversation.messages.map((m: any) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(errorOf(await api.gql(alice.token, q, { id, f: 101 })).code).toBe('BAD_USER_INPUT');
  });

  it('gives parallel messages in one conversation distinct consecutive seqs', async () => {
    const alice = await api.user();
    const id = await start(alice);
    await Promise.all(['one', 'two', 'three', 'four'].map((b) => send(alice, id, b)));
    const rows = await api.query<{ seq: number }>(`SELECT seq FROM conversation_messages WHERE conversation_id = $1 ORDER BY seq`, [id]);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses an empty or too long body and a too long title with BAD_USER_INPUT', async () => {
    const alice = await api.user();
    const id = await start(alice);
    for (const body of ['', '   ', 'x'.repeat(8001)]) {
      const e = errorOf(await api.gql(alice.token, SEND, { c: id, b: body }));
      expect(e.code).toBe('BAD_USER_INPUT');
    }
    expect(errorOf(await api.gql(alice.token, START, { t: 't'.repeat(101) })).code).toBe('BAD_USER_INPUT');
    expect(fake.chatRequests()).toHaveLength(0);
    const ok = await send(alice, id, 'x'.repeat(8000));
    expect(ok.message.body).toHaveLength(8000);
  });

  it('lets a suspended user read but not send or start conversations (SUSPENDED)', async () => {
    const alice = await api.user();
    const id = await start(alice);
    await send(alice, id, 'before suspension');
    await api.query(`UPDATE users SET suspended_at = now() WHERE id = $1`, [alice.id]);

    expect(errorOf(await api.gql(alice.token, SEND, { c: id, b: 'hello' })).code).toBe('SUSPENDED');
    expect(errorOf(await api.gql(alice.token, START, {})).code).toBe('SUSPENDED');
    expect(errorOf(await api.gql(alice.token, ADD_MEMORY, { t: 'x' })).code).toBe('SUSPENDED');
    const read = await api.ok(alice.token, CONVERSATION, { id });
    expect(read.conversation.messages).toHaveLength(2);
  });

  it('needs a token', async () => {
    expect(errorOf(await api.gql(null, CONVERSATIONS)).code).toBe('UNAUTHENTICATED');
    expect(errorOf(await api.gql(null, MEMORIES)).code).toBe('UNAUTHENTICATED');
  });
});

describe('only the owner sees a conversation', () => {
  it('answers NOT_FOUND to anyone else, exactly as for an id that does not exist, and stores nothing', async () => {
    const [alice, mallory] = await api.users(2);
    const id = await start(alice, 'Secret plans');
    await send(alice, id, 'my secret');

    const missing = errorOf(await api.gql(mallory.token, CONVERSATION, { id: randomUUID() }));
    const foreign = errorOf(await api.gql(mallory.token, CONVERSATION, { id }));
    expect(foreign).toEqual(missing);
    expect(foreign.code).toBe('NOT_FOUND');
    expect(errorOf(await api.gql(mallory.token, CONVERSATION, { id: 'not-a-uuid' }))).toEqual(missing);

    const sendForeign = errorOf(await api.gql(mallory.token, SEND, { c: id, b: 'let me in' }));
    const sendMissing = errorOf(await api.gql(mallory.token, SEND, { c: randomUUID(), b: 'let me in' }));
    expect(sendForeign).toEqual(sendMissing);
    expect(sendForeign.code).toBe('NOT_FOUND');

    const { conversations } = await api.ok(mallory.token, CONVERSATIONS);
    expect(conversations).toEqual([]);
    const rows = await api.query(`SELECT body FROM conversation_messages WHERE conversation_id = $1 ORDER BY seq`, [id]);
    expect(rows.map((r: any) => r.body)).toEqual(['my secret', expect.any(String)]);
    expect(fake.chatRequests()).toHaveLength(1);
  });
});

describe('personal memory', () => {
  it('adds, lists (newest first) and deletes facts', async () => {
    const alice = await api.user();
    const a = (await api.ok(alice.token, ADD_MEMORY, { t: '  I am allergic to peanuts  ' })).addMemory;
    const b = (await api.ok(alice.token, ADD_MEMORY, { t: 'I live in Osaka' })).addMemory;
    expect(a).toMatchObject({ text: 'I am allergic to peanuts', source: 'MANUAL' });

    expect((await api.ok(alice.token, MEMORIES)).memories.map((m: any) => m.id)).toEqual([b.id, a.id]);
    expect((await api.ok(alice.token, DELETE_MEMORY, { id: a.id })).deleteMemory).toBe(true);
    expect((await api.ok(alice.token, MEMORIES)).memories.map((m: any) => m.id)).toEqual([b.id]);
    expect(errorOf(await api.gql(alice.token, DELETE_MEMORY, { id: a.id })).code).toBe('NOT_FOUND');
  });

  it('returns the existing fact when the same text is added again', async () => {
    const alice = await api.user();
    const a = (await api.ok(alice.token, ADD_MEMORY, { t: 'I like tea' })).addMemory;
    const again = (await api.ok(alice.token, ADD_MEMORY, { t: 'i like TEA' })).addMemory;
    expect(again.id).toBe(a.id);
    expect((await api.ok(alice.token, MEMORIES)).memories).toHaveLength(1);
  });

  it('refuses empty and over-long facts with BAD_USER_INPUT', async () => {
    const alice = await api.user();
    for (const t of ['', '   ', 'x'.repeat(501)]) expect(errorOf(await api.gql(alice.token, ADD_MEMORY, { t })).code).toBe('BAD_USER_INPUT');
    expect((await api.ok(alice.token, ADD_MEMORY, { t: 'x'.repeat(500) })).addMemory.text).toHaveLength(500);
  });

  it('is owner-only: others neither see nor delete a fact (NOT_FOUND as for a random id)', async () => {
    const [alice, mallory] = await api.users(2);
    const fact = (await api.ok(alice.token, ADD_MEMORY, { t: 'my PIN hint is the cat' })).addMemory;
    expect((await api.ok(mallory.token, MEMORIES)).memories).toEqual([]);
    const foreign = errorOf(await api.gql(mallory.token, DELETE_MEMORY, { id: fact.id }));
    const missing = errorOf(await api.gql(mallory.token, DELETE_MEMORY, { id: randomUUID() }));
    expect(foreign).toEqual(missing);
    expect(foreign.code).toBe('NOT_FOUND');
    expect((await api.ok(alice.token, MEMORIES)).memories.map((m: any) => m.id)).toEqual([fact.id]);
  });

  it('holds at most 200 facts per person', async () => {
    const alice = await api.user();
    await api.query(
      `INSERT INTO memories (user_id, text, source) SELECT $1, 'fact ' || g, 'MANUAL' FROM generate_series(1, 200) g`,
      [alice.id],
    );
    const full = errorOf(await api.gql(alice.token, ADD_MEMORY, { t: 'one too many' }));
    expect(full.code).toBe('BAD_USER_INPUT');
    expect(full.extensions.reason).toBe('MEMORY_FULL');

    const id = await start(alice);
    const ex = await send(alice, id, 'Remember that my sister is vegan');
    expect(ex.memorySaved).toBeNull();
    expect(ex.memoryFull).toBe(true);
    expect(ex.reply.status).toBe('COMPLETED');
    const [{ n }] = await api.query(`SELECT count(*)::int AS n FROM memories WHERE user_id = $1`, [alice.id]);
    expect(n).toBe(200);
  });

  it("puts the owner's facts, and nobody else's, in the system message of a private request", async () => {
    const [alice, bob] = await api.users(2);
    await api.ok(alice.token, ADD_MEMORY, { t: 'I am allergic to peanuts' });
    await api.ok(bob.token, ADD_MEMORY, { t: 'Bob collects stamps' });
    const id = await start(alice);
    await send(alice, id, 'Suggest a snack for the train');

    const [req] = fake.chatRequests();
    expect(systemText(req)).toContain('I am allergic to peanuts');
    expect(promptText(req)).not.toContain('Bob collects stamps');
  });

  it('"remember that …" saves a fact from the conversation, and the next request uses it', async () => {
    const alice = await api.user();
    const id = await start(alice);
    const ex = await send(alice, id, 'Remember that my sister is vegan.');
    expect(ex.memorySaved).toMatchObject({ text: 'my sister is vegan', source: 'CONVERSATION' });
    expect(ex.memoryFull).toBe(false);
    expect(systemText(fake.chatRequests()[0])).toContain('my sister is vegan');

    const { memories } = await api.ok(alice.token, MEMORIES);
    expect(memories).toEqual([expect.objectContaining({ id: ex.memorySaved.id, text: 'my sister is vegan', source: 'CONVERSATION' })]);
    const [row] = await api.query(`SELECT conversation_id AS "conversationId" FROM memories WHERE id = $1`, [ex.memorySaved.id]);
    expect(row.conversationId).toBe(id);

    // A new conversation knows it too: memory belongs to the person, not the conversation.
    const other = await start(alice);
    await send(alice, other, 'What should I cook for my sister?');
    expect(systemText(fake.chatRequests()[1])).toContain('my sister is vegan');
  });

  it('"Remember that I\'m vegetarian. Any veggie ramen?" saves the fact and answers the question in the same reply', async () => {
    const alice = await api.user();
    const id = await start(alice);
    fake.enqueue({ text: 'Try the shoyu ramen with a mushroom broth.' });
    const ex = await send(alice, id, "Remember that I'm vegetarian. Any veggie ramen?");
    expect(ex.memorySaved).toMatchObject({ text: "I'm vegetarian", source: 'CONVERSATION' });
    expect(ex.reply).toMatchObject({ status: 'COMPLETED', body: 'Try the shoyu ramen with a mushroom broth.' });
    const [request] = fake.chatRequests();
    expect(systemText(request)).toContain("I'm vegetarian");
    const turns = request.body.messages as Array<{ role: string; content: string }>;
    expect(turns.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('Any veggie ramen?') });
  });

  it('drops a deleted fact from the next request', async () => {
    const alice = await api.user();
    const fact = (await api.ok(alice.token, ADD_MEMORY, { t: 'I hate mornings' })).addMemory;
    await api.ok(alice.token, DELETE_MEMORY, { id: fact.id });
    await send(alice, await start(alice), 'Plan my day');
    expect(promptText(fake.chatRequests()[0])).not.toContain('I hate mornings');
  });

  it('saves nothing for an ordinary message or a question about the past', async () => {
    const alice = await api.user();
    const id = await start(alice);
    expect((await send(alice, id, 'Do you remember when we talked about Rome?')).memorySaved).toBeNull();
    expect((await send(alice, id, 'What is the capital of Peru?')).memorySaved).toBeNull();
    expect((await api.ok(alice.token, MEMORIES)).memories).toEqual([]);
  });
});

describe('the reply when the AI cannot answer', () => {
  it('a provider failure gives a FAILED reply and charges nothing', async () => {
    const alice = await api.user();
    const id = await start(alice);
    const before = (await api.ok(alice.token, QUOTA)).me.quota.used;
    fake.enqueue({ status: 500 });

    const ex = await send(alice, id, 'Are you there?');
    expect(ex.message.status).toBe('SENT');
    expect(ex.reply).toMatchObject({ role: 'AI', status: 'FAILED', statusReason: 'PROVIDER_ERROR', body: '' });
    expect(await charges(id)).toEqual([{ charged: false, status: 'FAILED', statusReason: 'PROVIDER_ERROR', messageId: ex.reply.id }]);
    expect((await api.ok(alice.token, QUOTA)).me.quota.used).toBe(before);

    // The failed reply is not sent back to the model as something the AI said.
    await send(alice, id, 'Hello again');
    const last = fake.chatRequests().at(-1)!;
    expect(last.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Are you there?' },
      { role: 'user', content: 'Hello again' },
    ]);
  });

  it('an exhausted quota gives a FAILED QUOTA_EXCEEDED reply with the reset time, and no provider request', async () => {
    const free = await api.user({ plan: 'free' });
    const id = await start(free);
    const first = await send(free, id, 'Hi!');
    expect(first.reply.status).toBe('COMPLETED');
    expect(fake.chatRequests()).toHaveLength(1);

    const second = await send(free, id, 'And another thing?');
    expect(second.message).toMatchObject({ seq: 3, status: 'SENT' });
    expect(second.reply).toMatchObject({ seq: 4, status: 'FAILED', statusReason: 'QUOTA_EXCEEDED', body: '' });
    const resetsAt = new Date(second.quotaResetsAt).getTime();
    expect(resetsAt).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(resetsAt).toBeLessThanOrEqual(Date.now() + 60 * 60_000);
    expect(fake.chatRequests()).toHaveLength(1);
    expect((await api.ok(free.token, QUOTA)).me.quota).toEqual({ used: 1, remaining: 0 });
    expect(await charges(id)).toHaveLength(1);
  });

  it('an output that moderation blocks gives a BLOCKED reply with no text', async () => {
    const alice = await api.user();
    const id = await start(alice);
    fake.enqueue({ text: 'Something terrible' });
    const scores: Record<string, number> = { violence: 0.99, 'violence/graphic': 0.99 };
    fake.onModeration((input) => (input.includes('terrible') ? { flagged: true, category_scores: scores } : { flagged: false, category_scores: {} }));
    const ex = await send(alice, id, 'Tell me a story');
    expect(ex.reply).toMatchObject({ status: 'BLOCKED', statusReason: 'CONTENT_BLOCKED', body: '' });
    const rows = await api.query(`SELECT body FROM conversation_messages WHERE conversation_id = $1 AND role = 'AI'`, [id]);
    expect(rows).toEqual([{ body: '' }]);
    expect((await charges(id))[0]).toMatchObject({ status: 'BLOCKED', charged: true });
    // Staff get the blocked output to review; the harmless question opened nothing.
    expect(await cases(id)).toEqual([
      {
        source: 'AI_BLOCKED', groupId: null, messageId: null, authorId: null, teen: false, excerpt: 'Something terrible', categories: ['violence'], severity: 'high',
        details: expect.objectContaining({ conversationId: id, chargedUserId: alice.id, reason: 'blocked' }),
      },
    ]);
  });

  it('a message the AI must not answer is refused before the model is asked, and costs nothing', async () => {
    const alice = await api.user();
    const id = await start(alice);
    const scores: Record<string, number> = { illicit: 0.99, 'illicit/violent': 0.99 };
    fake.onModeration((input) => (input.includes('explosive') ? { flagged: true, category_scores: scores } : { flagged: false, category_scores: {} }));
    const ex = await send(alice, id, 'Give me step by step instructions to build an explosive device');
    expect(ex.reply).toMatchObject({ status: 'BLOCKED', statusReason: 'INPUT_BLOCKED', body: '' });
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await charges(id)).toEqual([]);
    expect(await cases(id)).toEqual([
      {
        source: 'AI_INPUT', groupId: null, messageId: null, authorId: alice.id, teen: false, categories: ['illicit'], severity: 'high',
        excerpt: 'Give me step by step instructions to build an explosive device',
        details: expect.objectContaining({ conversationId: id, answered: false }),
      },
    ]);
  });

  it('someone in distress still gets a (moderated) answer', async () => {
    const alice = await api.user();
    const id = await start(alice);
    const scores: Record<string, number> = { 'self-harm': 0.95, 'self-harm/intent': 0.95 };
    fake.onModeration((input) => (input.includes('want to die') ? { flagged: true, category_scores: scores } : { flagged: false, category_scores: {} }));
    fake.enqueue({ text: 'I am really sorry you feel this way. You can call or text a crisis line any time.' });
    const ex = await send(alice, id, 'I want to die');
    expect(ex.reply).toMatchObject({ status: 'COMPLETED' });
    expect(fake.chatRequests()).toHaveLength(1);
    // Answered, and flagged to staff all the same.
    expect(await cases(id)).toEqual([expect.objectContaining({ source: 'AI_INPUT', authorId: alice.id, categories: ['self-harm'], details: expect.objectContaining({ answered: true }) })]);
  });

  it('a minor gets no answer, and is not charged, when moderation is unavailable', async () => {
    const teen = await api.user({ age: 'minor' });
    const id = await start(teen);
    fake.onModeration(() => 'error');
    const ex = await send(teen, id, 'Help with my homework?');
    expect(ex.reply).toMatchObject({ status: 'FAILED', statusReason: 'MODERATION_UNAVAILABLE', body: '' });
    // Its input cannot be moderated either: nothing is reserved and the model is never asked.
    expect(await charges(id)).toEqual([]);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('without a provider, the reply is FAILED PROVIDER_NOT_CONFIGURED and nothing is charged', async () => {
    const bare = await startApi();
    try {
      const alice = await bare.user();
      const { startConversation } = await bare.ok(alice.token, START, {});
      const ex = (await bare.ok(alice.token, SEND, { c: startConversation.id, b: 'Hello?' })).sendPrivateMessage;
      expect(ex.message.status).toBe('SENT');
      expect(ex.reply).toMatchObject({ status: 'FAILED', statusReason: 'PROVIDER_NOT_CONFIGURED' });
      const rows = await bare.query(`SELECT charged FROM model_responses WHERE conversation_id = $1`, [startConversation.id]);
      expect(rows.every((r: any) => r.charged === false)).toBe(true);
      expect((await bare.ok(alice.token, QUOTA)).me.quota.used).toBe(0);
    } finally {
      await bare.stop();
    }
  });
});

describe('createGroup from a private conversation', () => {
  async function conversationWithHistory(owner: TestUser): Promise<string> {
    const id = await start(owner, 'Birthday');
    fake.enqueue({ text: 'Noted!' }, { status: 500 }, { text: 'How about a picnic?' });
    await send(owner, id, 'Remember that my sister is vegan');
    await send(owner, id, 'This reply will fail');
    await send(owner, id, 'Ideas for her birthday?');
    return id;
  }

  it('starts the group with a copy of the messages as seqs 1..n and leaves the conversation unchanged', async () => {
    const [alice, bob] = await api.users(2);
    const id = await conversationWithHistory(alice);
    const before = await api.ok(alice.token, CONVERSATION, { id });
    const memoriesBefore = (await api.ok(alice.token, MEMORIES)).memories;

    const { createGroup } = await api.ok(alice.token, CREATE_GROUP, {
      i: { title: 'Sister birthday', memberUsernames: [bob.username], fromConversationId: id },
    });
    expect(createGroup.title).toBe('Sister birthday');

    // The failed AI reply carried no text and is not copied.
    const expected = [
      ['USER', 'Remember that my sister is vegan', alice.id, 'SENT'],
      ['AI', 'Noted!', null, 'COMPLETED'],
      ['USER', 'This reply will fail', alice.id, 'SENT'],
      ['USER', 'Ideas for her birthday?', alice.id, 'SENT'],
      ['AI', 'How about a picnic?', null, 'COMPLETED'],
    ];
    for (const viewer of [alice, bob]) {
      const page = await api.ok(viewer.token, GROUP_MESSAGES, { g: createGroup.id });
      const nodes = page.messages.edges.map((e: any) => e.node);
      expect(nodes.map((n: any) => n.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(nodes.map((n: any) => [n.kind, n.body, n.author?.id ?? null, n.status])).toEqual(expected);
    }

    const events = await api.query(`SELECT seq::int AS seq, type, message_id IS NOT NULL AS "hasMessage" FROM group_events WHERE group_id = $1 ORDER BY seq`, [createGroup.id]);
    expect(events.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((seq) => ({ seq, type: 'MESSAGE_CREATED', hasMessage: true })));
    expect(events.slice(5).map((e: any) => e.type)).toEqual(['MEMBER_JOINED', 'MEMBER_JOINED']);
    expect(createGroup.lastSeq).toBe(7);
    const [g] = await api.query(`SELECT source_conversation_id AS "source" FROM groups WHERE id = $1`, [createGroup.id]);
    expect(g.source).toBe(id);

    // The conversation is as it was, still private, and memory is untouched.
    expect(await api.ok(alice.token, CONVERSATION, { id })).toEqual(before);
    expect(errorOf(await api.gql(bob.token, CONVERSATION, { id })).code).toBe('NOT_FOUND');
    expect((await api.ok(bob.token, CONVERSATIONS)).conversations).toEqual([]);
    expect((await api.ok(alice.token, MEMORIES)).memories).toEqual(memoriesBefore);
    expect((await api.ok(bob.token, MEMORIES)).memories).toEqual([]);
  });

  it('puts no personal memory into the new group', async () => {
    const alice = await api.user();
    await api.ok(alice.token, ADD_MEMORY, { t: 'My bank is Acme Savings' });
    const id = await start(alice);
    await send(alice, id, 'Let us plan a trip');
    const { createGroup } = await api.ok(alice.token, CREATE_GROUP, { i: { title: 'Trip', fromConversationId: id } });
    const rows = await api.query(`SELECT body FROM messages WHERE group_id = $1`, [createGroup.id]);
    expect(JSON.stringify(rows)).not.toContain('Acme Savings');
    expect(rows).toHaveLength(2);
  });

  it("marks the copied history read for the creator, unread for the people added", async () => {
    const [alice, bob] = await api.users(2);
    const id = await start(alice);
    await send(alice, id, 'hello');
    const { createGroup } = await api.ok(alice.token, CREATE_GROUP, { i: { title: 'T', memberUsernames: [bob.username], fromConversationId: id } });
    const q = `query($g: ID!) { group(id: $g) { myMembership { unreadCount } } }`;
    expect((await api.ok(alice.token, q, { g: createGroup.id })).group.myMembership.unreadCount).toBe(0);
    expect((await api.ok(bob.token, q, { g: createGroup.id })).group.myMembership.unreadCount).toBe(2);
  });

  it("refuses someone else's conversation with NOT_FOUND, as for a random id, and creates no group", async () => {
    const [alice, mallory] = await api.users(2);
    const id = await start(alice);
    await send(alice, id, 'private stuff');
    const count = async () => (await api.query(`SELECT count(*)::int AS n FROM groups`))[0].n;
    const groupsBefore = await count();

    const foreign = errorOf(await api.gql(mallory.token, CREATE_GROUP, { i: { title: 'Stolen', fromConversationId: id } }));
    const missing = errorOf(await api.gql(mallory.token, CREATE_GROUP, { i: { title: 'Stolen', fromConversationId: randomUUID() } }));
    expect(foreign).toEqual(missing);
    expect(foreign.code).toBe('NOT_FOUND');
    expect(await count()).toBe(groupsBefore);
    const [{ n }] = await api.query(`SELECT count(*)::int AS n FROM messages WHERE body = 'private stuff'`);
    expect(n).toBe(0);
  });
});

describe('the wall between group code and personal memory', () => {
  const SRC = join(__dirname, '..', 'api', 'src');
  const ALLOWED = ['memory/', 'conversations/', 'app.ts', 'context.ts', 'schema.ts', 'domain/'];

  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
    });
  }

  it('leaves the memories table and the memory services to api/src/memory and api/src/conversations', () => {
    const offenders = files(SRC)
      .map((path) => ({ path: relative(SRC, path).split('\\').join('/'), text: readFileSync(path, 'utf8') }))
      .filter(({ path }) => !ALLOWED.some((a) => path.startsWith(a)))
      .filter(({ text }) =>
        /\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+memories\b/i.test(text) ||
        /from '[./]*(?:memory\/|conversations\/private-responder|domain\/memory\/)/.test(text),
      )
      .map(({ path }) => path);
    expect(offenders).toEqual([]);
  });
});
