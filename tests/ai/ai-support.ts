/**
 * Shared pieces for the AI-participant integration tests: an API wired to the loopback
 * OpenAI fake, the event selection that includes AI deltas, notices and reactions, and
 * readers for messages, quotas and the recorded provider requests.
 */
import { FakeOpenAI, RecordedRequest } from '../support/fake-openai';
import { liveSubscription, LiveSubscription, startApi, TestApi, TestUser } from '../support/harness';

export const MODELS = { fast: 'test-fast', reasoning: 'test-reasoning', top: 'test-top' } as const;

/** An API whose provider is the fake; no retries, so a programmed failure is final. */
export function startAiApi(fake: FakeOpenAI, overrides: Record<string, string> = {}): Promise<TestApi> {
  return startApi({
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    AI_MAX_RETRIES: '0',
    AI_MODEL_FAST: MODELS.fast,
    AI_MODEL_REASONING: MODELS.reasoning,
    AI_MODEL_TOP: MODELS.top,
    ...overrides,
  });
}

export const AI_EVENTS = `seq type
  message { id seq kind body status statusReason author { id } }
  member { user { id } }
  delta { messageId text offset }
  notice { code message resetsAt messageId }
  reaction { messageId emoji byAi user { id } }`;

/** A subscription that is live before it returns, selecting the AI fields. */
export function watch(api: TestApi, user: TestUser, groupId: string): Promise<LiveSubscription> {
  return liveSubscription(api, user, groupId, AI_EVENTS);
}

const HISTORY = `query($g: ID!) { messages(groupId: $g, first: 100) { edges { node {
  id seq kind body status statusReason mentionsAi author { id }
  reactions { emoji byAi user { id } }
  modelResponse { model tier routeReason charged status promptTokens completionTokens latencyMs chargedUser { id } }
} } } }`;

export interface MessageNode {
  id: string;
  seq: number;
  kind: 'USER' | 'AI' | 'SYSTEM';
  body: string;
  status: string;
  statusReason: string | null;
  mentionsAi: boolean;
  author: { id: string } | null;
  reactions: Array<{ emoji: string; byAi: boolean; user: { id: string } | null }>;
  modelResponse: {
    model: string;
    tier: string;
    routeReason: string;
    charged: boolean;
    status: string;
    promptTokens: number | null;
    completionTokens: number | null;
    latencyMs: number | null;
    chargedUser: { id: string };
  } | null;
}

/** The group's history as `viewer` sees it through the messages query. */
export async function history(api: TestApi, viewer: TestUser, groupId: string): Promise<MessageNode[]> {
  const data = await api.ok(viewer.token, HISTORY, { g: groupId });
  return data.messages.edges.map((e: { node: MessageNode }) => e.node);
}

export async function aiMessages(api: TestApi, viewer: TestUser, groupId: string): Promise<MessageNode[]> {
  return (await history(api, viewer, groupId)).filter((m) => m.kind === 'AI');
}

export interface Quota {
  plan: string;
  limit: number;
  used: number;
  remaining: number;
  resetsAt: string | null;
}

export async function quotaOf(api: TestApi, user: TestUser): Promise<Quota> {
  const data = await api.ok(user.token, `{ me { quota { plan limit used remaining resetsAt } } }`);
  return data.me.quota;
}

/** Waits until every AI response started so far has ended. */
export function settled(api: TestApi): Promise<void> {
  return api.app.services.background.idle();
}

export async function updateGroup(api: TestApi, user: TestUser, groupId: string, input: Record<string, unknown>): Promise<any> {
  const data = await api.ok(user.token, `mutation($g: ID!, $i: UpdateGroupInput!) { updateGroup(groupId: $g, input: $i) { id aiMode customInstructions safetyProfile } }`, {
    g: groupId,
    i: input,
  });
  return data.updateGroup;
}

export async function safetyProfileOf(api: TestApi, user: TestUser, groupId: string): Promise<string> {
  const data = await api.ok(user.token, `query($g: ID!) { group(id: $g) { safetyProfile } }`, { g: groupId });
  return data.group.safetyProfile;
}

/** `joiner` joins through an invite link made by `member`; returns the group as the join returned it. */
export async function joinByInvite(api: TestApi, member: TestUser, groupId: string, joiner: TestUser): Promise<{ id: string; safetyProfile: string }> {
  const invite = await api.ok(member.token, `mutation($g: ID!) { createInvite(groupId: $g) { token } }`, { g: groupId });
  const joined = await api.ok(joiner.token, `mutation($t: String!) { joinGroup(token: $t) { id safetyProfile } }`, { t: invite.createInvite.token });
  return joined.joinGroup;
}

export interface PromptMessage {
  role: string;
  content: string;
  name?: string;
}

export function promptOf(request: RecordedRequest): PromptMessage[] {
  return request.body.messages;
}

export function systemText(request: RecordedRequest): string {
  return promptOf(request)
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n');
}

/** Events of one type a subscription has collected. */
export function ofType(sub: LiveSubscription, type: string): any[] {
  return sub.events.events.filter((e) => e.type === type);
}

/** Resolves once the subscription has seen the message with this id created. */
export function untilMessage(sub: LiveSubscription, messageId: string): Promise<unknown> {
  return sub.events.until((events) => events.some((e) => e.type === 'MESSAGE_CREATED' && e.message?.id === messageId));
}

/** Resolves with the AI_COMPLETED event for the group's AI reply, once it arrived. */
export async function untilAiCompleted(sub: LiveSubscription, count = 1): Promise<any[]> {
  const events = await sub.events.until((evs) => evs.filter((e) => e.type === 'AI_COMPLETED').length >= count);
  return events.filter((e) => e.type === 'AI_COMPLETED');
}

export async function tableCount(api: TestApi, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await api.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) t`, params);
  return row.n;
}

/**
 * The fixture of an AI test file: the loopback fake and an API on it for the whole file;
 * after each test the background work settles and the fake forgets what it was told.
 */
export function aiFixture(overrides: Record<string, string> = {}): { readonly fake: FakeOpenAI; readonly api: TestApi } {
  let fake: FakeOpenAI | undefined;
  let api: TestApi | undefined;
  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    api = await startAiApi(fake, overrides);
  });
  afterEach(async () => {
    if (api) await settled(api);
    fake?.reset();
  });
  afterAll(async () => {
    await api?.stop();
    await fake?.stop();
  });
  return {
    get fake() {
      if (!fake) throw new Error('the fake starts in beforeAll');
      return fake;
    },
    get api() {
      if (!api) throw new Error('the API starts in beforeAll');
      return api;
    },
  };
}
