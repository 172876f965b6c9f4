/**
 * One request costs what it claims: documents that multiply work (aliases, root fields,
 * token floods, fragments spread into fragments) are refused before they run, over HTTP
 * and graphql-ws alike, while a full page and the documented documents pass; and one
 * user's parallel operations take turns instead of the database pool.
 */
import { getIntrospectionQuery } from 'graphql';
import { Client as PgClient } from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { errorCodes, eventually, EVENT_SELECTION, GqlResult, liveSubscription, startApi, TestApi, TestUser } from '../support/harness';

/** Runs one operation over graphql-ws; resolves with its result (errors from `next` or `error`). */
function wsResult(api: TestApi, token: string, payload: { query: string; variables?: Record<string, unknown> }): Promise<{ data?: any; errors?: any[] }> {
  const client = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  return new Promise<{ data?: any; errors?: any[] }>((resolve, reject) => {
    let result: { data?: any; errors?: any[] } = {};
    client.subscribe(payload, {
      next: (r) => void (result = r as typeof result),
      error: (e) => (Array.isArray(e) ? resolve({ errors: e }) : reject(e)),
      complete: () => resolve(result),
    });
  }).finally(() => client.dispose());
}

const aliased = (n: number) => `query($g: ID!) { ${Array.from({ length: n }, (_, i) => `a${i}:messages(groupId:$g,first:1){edges{cursor}}`).join(' ')} }`;

/** Fragments that each spread the next one twice: 2^depth fields once spread out. */
const doubling = (depth: number) =>
  `query { me { ...F0 } } ` +
  Array.from({ length: depth }, (_, i) => `fragment F${i} on Me { ...F${i + 1} ...F${i + 1} }`).join(' ') +
  ` fragment F${depth} on Me { id }`;

/** The README's and the clients' own documents: these must keep working. */
const FULL_NODE = `id seq kind body status statusReason replyToId clientMessageId mentionsAi editedAt deletedAt createdAt groupId
  author { id username displayName photoUrl } mentions { id username displayName photoUrl }
  reactions { emoji byAi createdAt user { id username displayName photoUrl } }
  modelResponse { model routeReason chargedUser { id } promptTokens completionTokens latencyMs status }`;

describe('documents that multiply work are refused with BAD_USER_INPUT and HTTP 400', () => {
  let api: TestApi;
  let alice: TestUser;
  let groupId: string;
  beforeAll(async () => {
    api = await startApi();
    const [a, b] = await api.users(2);
    alice = a;
    groupId = await api.group(a, [b]);
    await api.send(a, groupId, 'hello');
  });
  afterAll(() => api.stop());

  const refused = (r: GqlResult, pattern: RegExp) => {
    expect({ status: r.status, codes: errorCodes(r), data: r.data ?? null, message: r.errors?.[0].message }).toEqual({
      status: 400,
      codes: ['BAD_USER_INPUT'],
      data: null,
      message: expect.stringMatching(pattern),
    });
  };

  it('1,600 aliased messages(first: 1) fields', async () => {
    refused(await api.gql(alice.token, aliased(1600), { g: groupId }), /tokens/);
    // Within the token limit, the aliases are counted: 15 pass, 16 do not.
    expect((await api.gql(alice.token, aliased(10), { g: groupId })).errors).toBeUndefined();
    refused(await api.gql(alice.token, aliased(11), { g: groupId }), /11 root fields; at most 10/);
    const nestedAliases = `query($g: ID!) { group(id: $g) { ${Array.from({ length: 16 }, (_, i) => `m${i}: members { role }`).join(' ')} } }`;
    refused(await api.gql(alice.token, nestedAliases, { g: groupId }), /Aliases limit of 15 exceeded, found 16/);
  });

  it('many root fields', async () => {
    const fields = [
      `me { id }`,
      `groups { edges { cursor } }`,
      `conversations { id }`,
      `memories { id }`,
      `messages(groupId: $g, first: 1) { edges { cursor } }`,
      `group(id: $g) { id }`,
    ];
    // Six distinct root fields, then more of them through aliases and fragments (each spread counts).
    const many = `query($g: ID!) { ${fields.join(' ')} m1: me { id } m2: me { id } m3: me { id } ...R ...R } fragment R on Query { me { id } }`;
    refused(await api.gql(alice.token, many, { g: groupId }), /root fields; at most 10/);
    const mutation = `mutation($g: ID!) { ${Array.from({ length: 11 }, (_, i) => `t${i}: setTyping(groupId: $g, isTyping: true)`).join(' ')} }`;
    refused(await api.gql(alice.token, mutation, { g: groupId }), /root fields; at most 10/);
    expect((await api.gql(alice.token, `query($g: ID!) { ${fields.join(' ')} }`, { g: groupId })).errors).toBeUndefined();
  });

  it('a token flood', async () => {
    const flood = `{ me { ${'id '.repeat(1000)} } }`;
    refused(await api.gql(alice.token, flood), /1000 tokens/);
  });

  it('fragments that multiply each other, before any of them is walked in full', async () => {
    // 2^40 fields once spread: refused from the fragments' sizes, worked out once each.
    refused(await api.gql(alice.token, doubling(40)), /spreads its fragments to \d+ fields; at most 1000/);
    // Aliases inside a fragment count once per spread.
    const spreadAliases = `query($g: ID!) { group(id: $g) { ...A ...B } } fragment A on Group { ...M } fragment B on Group { ...M } fragment M on Group { ${Array.from({ length: 8 }, (_, i) => `x${i}: members { role }`).join(' ')} }`;
    refused(await api.gql(alice.token, spreadAliases, { g: groupId }), /Aliases limit of 15 exceeded, found 16/);
    expect((await api.gql(alice.token, doubling(3))).errors).toBeUndefined();
  });

  it('each read of the database costs more than a plain field', async () => {
    // With the reads counted, ten short pages of history cost more than ten plain fields would.
    const limited = await startApi({ GRAPHQL_MAX_COST: '150' });
    try {
      const [u] = await limited.users(1);
      const g = await limited.group(u);
      expect((await limited.gql(u.token, aliased(5), { g })).errors).toBeUndefined();
      refused(await limited.gql(u.token, aliased(10), { g }), /too costly: \d+ exceeds the limit of 150/);
      expect((await limited.gql(u.token, `{ ${Array.from({ length: 10 }, (_, i) => `m${i}: me { id username displayName photoUrl }`).join(' ')} }`)).errors).toBeUndefined();
    } finally {
      await limited.stop();
    }
  });

  it('over graphql-ws as over HTTP', async () => {
    for (const [query, pattern] of [
      [aliased(1600), /tokens/],
      [aliased(11), /root fields/],
      [doubling(40), /spreads its fragments/],
    ] as const) {
      const r = await wsResult(api, alice.token, { query, variables: { g: groupId } });
      expect(r.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', expect.stringMatching(pattern)]]);
    }
  });

  it('allows a full page of 100 messages and the documented documents', async () => {
    const page = await api.gql(alice.token, `query($g: ID!) { messages(groupId: $g, first: 100) { edges { cursor node { ${FULL_NODE} } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }`, {
      g: groupId,
    });
    expect(page.errors).toBeUndefined();
    expect(page.data.messages.edges.map((e: any) => e.node.body)).toEqual(['hello']);
    // README: profile, group, message; the quota; a page of groups with their members.
    const token = (await api.token({ sub: 'readme-alice' })) as string;
    await api.ok(token, `mutation { upsertProfile(input: {displayName: "Alice", username: "readme_alice", photoUrl: "https://example.com/alice.png"}) { id username } }`);
    const created = await api.ok(token, `mutation { createGroup(input: {title: "Trip to Kyoto"}) { id title memberCount } }`);
    await api.ok(token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq body } }`, { i: { groupId: created.createGroup.id, body: 'Who is in for ramen?', clientMessageId: 'msg-1' } });
    await api.ok(token, `{ me { quota { used remaining resetsAt } } }`);
    await api.ok(
      token,
      `{ groups(first: 20) { edges { cursor node { id title memberCount aiMode safetyProfile lastSeq owner { id username } myMembership { unreadCount lastReadSeq muted }
        members { role joinedAt user { id username displayName photoUrl } } } } pageInfo { hasNextPage endCursor } } }`,
    );
    // README: the live events subscription with its whole selection.
    const readme = `seq type actor { username } message { id seq body status author { displayName } } member { user { username } role } typing { user { username } isTyping }`;
    const live = await liveSubscription(api, alice, groupId, readme);
    await api.send(alice, groupId, 'still here');
    await live.events.until((e) => e.some((x) => x.message?.body === 'still here'));
    const sub = await liveSubscription(api, alice, groupId, EVENT_SELECTION);
    sub.events.unsubscribe();
    // Introspection, where it is on: the whole query tools send.
    expect((await api.ok(null, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, directiveIsRepeatable: true }))).__schema.queryType.name).toBe('Query');
  });
});

describe('operations in flight per user (MAX_OPERATIONS_IN_FLIGHT_PER_USER 2, MAX_OPERATIONS_QUEUED_PER_USER 3)', () => {
  let api: TestApi;
  let alice: TestUser;
  let bob: TestUser;
  let groupId: string;
  beforeAll(async () => {
    api = await startApi({ MAX_OPERATIONS_IN_FLIGHT_PER_USER: '2', MAX_OPERATIONS_QUEUED_PER_USER: '3' });
    [alice, bob] = await api.users(2);
    groupId = await api.group(alice, [bob]);
    await api.send(alice, groupId, 'hello');
  });
  afterAll(() => api.stop());

  const HISTORY = `query($g: ID!) { messages(groupId: $g, first: 10) { edges { node { body } } } }`;

  it("queues one user's parallel operations, refuses those past the queue (RATE_LIMITED, 429), and leaves other users alone", async () => {
    // The test's own connection holds the messages table, so every history read waits in
    // PostgreSQL until it lets go: the operations that got a turn are visibly running.
    const holder = new PgClient({ connectionString: api.databaseUrl });
    const watcher = new PgClient({ connectionString: api.databaseUrl });
    await Promise.all([holder.connect(), watcher.connect()]);
    const waitingInPostgres = async () =>
      Number(
        (await watcher.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM messages%'`)).rows[0].n,
      );
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');

      const responses: GqlResult[] = [];
      const all = Array.from({ length: 7 }, () =>
        api.gql(alice.token, HISTORY, { g: groupId }).then((r) => {
          responses.push(r);
          return r;
        }),
      );
      // 2 run, 3 wait: the other 2 are refused at once, whatever order they arrived in.
      // (Without turns all 7 would reach PostgreSQL and wait there: stop looking then too.)
      const refused = () => responses.filter((r) => r.status === 429);
      await eventually(async () => refused().length === 2 || (await waitingInPostgres()) > 2, 10_000);
      expect(refused().map((r) => errorCodes(r))).toEqual([['RATE_LIMITED'], ['RATE_LIMITED']]);
      // Only the 2 with a turn reached PostgreSQL; the queued 3 hold no connection.
      await eventually(async () => (await waitingInPostgres()) >= 2);
      expect(await waitingInPostgres()).toBe(2);

      // Over graphql-ws, the same user's turns are the same turns: refused too.
      const overWs = await wsResult(api, alice.token, { query: HISTORY, variables: { g: groupId } });
      expect(overWs.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);

      // Another user is not behind alice's queue, over HTTP or graphql-ws.
      expect((await api.ok(bob.token, `{ me { id } }`)).me.id).toBe(bob.id);
      expect((await wsResult(api, bob.token, { query: `{ me { id } }` })).data).toEqual({ me: { id: bob.id } });
      expect(await waitingInPostgres()).toBe(2);
      expect(responses).toHaveLength(2);

      await holder.query('COMMIT');
      const results = await Promise.all(all);
      const served = results.filter((r) => r.status === 200);
      expect(served).toHaveLength(5);
      for (const r of served) expect(r.data.messages.edges.map((e: any) => e.node.body)).toEqual(['hello']);
      // All turns were given back: alice runs again.
      expect((await api.ok(alice.token, `{ me { id } }`)).me.id).toBe(alice.id);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await Promise.all([holder.end(), watcher.end()]);
    }
  });
});

describe('cost per user and second (GRAPHQL_COST_BURST_PER_USER 400, GRAPHQL_COST_PER_SECOND_PER_USER 1)', () => {
  it('refuses work past what the bucket would give within 10 s with RATE_LIMITED (429), for that user only', async () => {
    const api = await startApi({ GRAPHQL_COST_BURST_PER_USER: '400', GRAPHQL_COST_PER_SECOND_PER_USER: '1' });
    try {
      const [alice, bob] = await api.users(2);
      const groupId = await api.group(alice, [bob]);
      // 216 a page: the profile and the group took a little of alice's 400, the first page most of
      // the rest; the second would have to wait about a minute for the bucket, so it is refused.
      const page = `query($g: ID!) { messages(groupId: $g, first: 50) { edges { cursor node { id } } } }`;
      const results: GqlResult[] = [];
      for (let i = 0; i < 3; i++) results.push(await api.gql(alice.token, page, { g: groupId }));
      expect(results.map((r) => [r.status, errorCodes(r)])).toEqual([
        [200, []],
        [429, ['RATE_LIMITED']],
        [429, ['RATE_LIMITED']],
      ]);
      expect(results[1].errors![0].extensions).toMatchObject({ retryAfterMs: expect.any(Number) });
      // Over graphql-ws it is the same bucket.
      expect((await wsResult(api, alice.token, { query: page, variables: { g: groupId } })).errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
      // Bob's bucket is his own.
      expect((await api.gql(bob.token, page, { g: groupId })).errors).toBeUndefined();
    } finally {
      await api.stop();
    }
  });
});
