/** Operations edge: health, readiness, metrics, CSRF prevention, body limit, introspection. */
import type { Client as WsClient } from 'graphql-ws';
import { eventually, startApi, TestApi } from './support/harness';

const origin = (api: TestApi) => new URL(api.url).origin;

/** Runs one operation over graphql-ws and returns its single result. */
function wsOnce(client: WsClient, query: string): Promise<{ data?: any; errors?: any[] }> {
  return new Promise((resolve, reject) => {
    let result: { data?: any; errors?: any[] } | undefined;
    client.subscribe(
      { query },
      {
        next: (r) => void (result = r as typeof result),
        error: (e) => (Array.isArray(e) ? resolve({ errors: e }) : reject(e)),
        complete: () => resolve(result ?? {}),
      },
    );
  });
}

/** The value of one sample in Prometheus text exposition (sum over label sets when several match). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) continue;
    found = (found ?? 0) + Number(m[3]);
  }
  return found;
}

describe('health, readiness and metrics', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.stop());

  it('answers /healthz with 200', async () => {
    const res = await fetch(`${origin(api)}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 while the database answers', async () => {
    const res = await fetch(`${origin(api)}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('answers unknown paths with 404', async () => {
    expect((await fetch(`${origin(api)}/nope`)).status).toBe(404);
  });

  it('exposes messages sent, open subscriptions and operation latency on /metrics', async () => {
    const scrape = async () => {
      const res = await fetch(`${origin(api)}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      return res.text();
    };
    const before = await scrape();
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob]);
    const { group } = await api.ok(bob.token, `query($id: ID!) { group(id: $id) { lastSeq } }`, { id: groupId });
    // Resuming from lastSeq, the message arrives whether it beats the subscription or not.
    const sub = api.subscribe(bob.token, groupId, group.lastSeq);
    const sent = await api.send(alice, groupId, 'counted');
    await sub.until((e) => e.some((x) => x.message?.id === sent.id));

    const text = await scrape();
    expect(sample(before, 'roundtable_messages_sent_total')).toBe(0);
    expect(sample(text, 'roundtable_messages_sent_total')).toBe(1);
    expect(sample(text, 'roundtable_subscriptions_active')).toBe(1);
    expect(sample(text, 'roundtable_ws_connections_active')).toBe(1);
    expect(text).toContain('# TYPE roundtable_graphql_operation_duration_seconds histogram');
    // harness operations are anonymous: upsertProfile x2, createGroup, sendMessage at least
    expect(sample(text, 'roundtable_graphql_operation_duration_seconds_count', { type: 'http', status: '200' })).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'roundtable_graphql_operation_duration_seconds_bucket', { le: '+Inf' })).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);

    sub.unsubscribe();
    await eventually(async () => sample(await scrape(), 'roundtable_subscriptions_active') === 0);
  });
});

describe('CSRF prevention', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.stop());

  const blocked = /blocked as a potential Cross-Site Request Forgery/;

  it('rejects a GET without content-type or apollo-require-preflight with 400', async () => {
    const res = await fetch(`${api.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(blocked);
  });

  it('accepts the same GET with apollo-require-preflight', async () => {
    const res = await fetch(`${api.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'rejects a simple POST (%s) with 400 and does not run it',
    async (contentType) => {
      const [user] = await api.users(1);
      const body = JSON.stringify({
        query: `mutation { upsertProfile(input: { displayName: "Forged", username: "${user.username}", photoUrl: "https://example.test/x.png" }) { id } }`,
      });
      const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${user.token}` }, body });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(blocked);
      const me = await api.ok(user.token, `{ me { displayName } }`);
      expect(me.me.displayName).not.toBe('Forged');
    },
  );

  it('rejects a POST with no content-type at all', async () => {
    const res = await fetch(api.url, { method: 'POST', body: new Blob([JSON.stringify({ query: '{ __typename }' })]) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(blocked);
  });
});

describe('request body limit', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi({ HTTP_BODY_LIMIT_BYTES: '2000' });
  });
  afterAll(() => api.stop());

  const bigBody = () => JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(3000) } });

  it('answers a body over HTTP_BODY_LIMIT_BYTES with 413 and BAD_USER_INPUT', async () => {
    const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bigBody() });
    expect(res.status).toBe(413);
    const body = (await res.json()) as any;
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(body.errors[0].message).toMatch(/exceeds 2000 bytes/);
  });

  it('answers 413 too when the body is streamed without a content-length', async () => {
    const payload = new TextEncoder().encode(bigBody());
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < payload.length; i += 500) controller.enqueue(payload.slice(i, i + 500));
        controller.close();
      },
    });
    const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('still serves bodies under the limit', async () => {
    const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('introspection', () => {
  const INTROSPECT = `{ __schema { queryType { name } } }`;

  it('is refused over HTTP and graphql-ws when GRAPHQL_INTROSPECTION=false', async () => {
    const api = await startApi({ GRAPHQL_INTROSPECTION: 'false' });
    try {
      const [user] = await api.users(1);
      const http = await api.gql(user.token, INTROSPECT);
      expect(http.data).toBeUndefined();
      expect(http.errors?.[0].message).toMatch(/introspection/i);
      expect(http.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

      const ws = await wsOnce(api.ws(user.token), INTROSPECT);
      expect(ws.data).toBeUndefined();
      expect(ws.errors?.[0].message).toMatch(/introspection/i);
      expect(ws.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

      // Ordinary operations are unaffected, including __typename.
      expect(await api.ok(user.token, `{ __typename me { id } }`)).toEqual({ __typename: 'Query', me: { id: user.id } });
    } finally {
      await api.stop();
    }
  });

  it('is allowed when GRAPHQL_INTROSPECTION=true', async () => {
    const api = await startApi({ GRAPHQL_INTROSPECTION: 'true' });
    try {
      expect(await api.ok(null, INTROSPECT)).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await api.stop();
    }
  });
});
