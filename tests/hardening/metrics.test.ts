/**
 * Issue 10, item 5: nothing an anonymous client sends grows /metrics. The latency
 * histogram is labelled by the root field the schema resolved, never by the client's
 * operationName or aliases; /metrics can have its own port (METRICS_PORT) or a bearer
 * token (METRICS_TOKEN).
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '../../api/src/db/embedded';
import { startApi, TestApi } from '../support/harness';

const origin = (api: TestApi) => new URL(api.url).origin;
const HISTOGRAM = 'roundtable_graphql_operation_duration_seconds';

/** Label sets of the histogram's series, one string per series. */
function seriesOf(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${HISTOGRAM}_count{`))
    .map((l) => l.slice(0, l.lastIndexOf(' ')))
    .sort();
}

/** Samples of Roundtable's own metrics (the runtime's, such as GC kinds, come and go by themselves). */
const sampleLines = (text: string) => text.split('\n').filter((l) => l.startsWith('roundtable_')).length;

/** A name a client might make up: a valid GraphQL name, different every time. */
const randomName = () => `Op_${randomBytes(6).toString('hex')}`;

/** Tokenless requests of every kind, each carrying a fresh random operation name (and alias). */
function hostileRequests(api: TestApi, name: string): Array<Promise<unknown>> {
  const post = (path: string, body: unknown) =>
    fetch(`${origin(api)}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
  return [
    post('/graphql', { query: `query ${name} { __typename }`, operationName: name }),
    post('/graphql', { query: `query ${name} { me { id } }`, operationName: name }),
    post('/graphql', { query: `query ${name} { ${name}: __typename }`, operationName: name }),
    post('/graphql', { query: `query ${name} { ${name} }`, operationName: name }),
    post('/graphql', { query: `{ __typename }`, operationName: name }),
    post('/graphql', { query: `query ${name} {`, operationName: name }),
    post('/graphql', { query: `mutation ${name} { sendMessage(input: { groupId: "x", body: "hi", clientMessageId: "${name}" }) { id } }`, operationName: name }),
    post('/admin/graphql', { query: `query ${name} { me { id } }`, operationName: name }),
    post('/admin/graphql', { query: `query ${name} { ${name} }`, operationName: name }),
  ];
}

describe('operation labels', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.stop());

  const scrape = async () => (await fetch(`${origin(api)}/metrics`)).text();

  it('hundreds of tokenless requests with random operation names add no label values', async () => {
    // One round of every kind first, so each (root field, endpoint, status) series exists.
    await Promise.all(hostileRequests(api, randomName()));
    const before = await scrape();

    const names: string[] = [];
    // Nine requests at a time, as in the warm-up round: well within the per-address limit on
    // operations in flight, so no status appears that the warm-up did not see.
    for (let round = 0; round < 40; round++) {
      const batch = [randomName()];
      names.push(...batch);
      await Promise.all(batch.flatMap((n) => hostileRequests(api, n)));
    }
    const after = await scrape();

    expect(seriesOf(after)).toEqual(seriesOf(before));
    expect(sampleLines(after)).toBe(sampleLines(before));
    expect(names.filter((n) => after.includes(n))).toEqual([]);
    // The requests were counted, under labels the schema bounds.
    const count = (text: string, labels: string) =>
      Number(text.split('\n').find((l) => l.startsWith(`${HISTOGRAM}_count{`) && l.includes(labels))?.split(' ').pop() ?? 0);
    expect(count(after, 'operation="__typename",type="http",status="200"') - count(before, 'operation="__typename",type="http",status="200"')).toBe(2 * names.length);
    expect(seriesOf(after).every((s) => /operation="(invalid|multiple|__typename|me|sendMessage)"/.test(s))).toBe(true);
  });

  it('labels a signed-in operation by its root field, and several root fields as multiple', async () => {
    const [user] = await api.users(1);
    await api.ok(user.token, `query MadeUpName { me { id } }`);
    await api.ok(user.token, `query AnotherName { alias1: me { id } alias2: me { id } }`);
    await api.ok(user.token, `query Both { me { id } __typename }`);
    const text = await scrape();
    expect(text).toContain(`${HISTOGRAM}_count{operation="me",type="http",status="200"}`);
    expect(text).toContain(`${HISTOGRAM}_count{operation="multiple",type="http",status="200"}`);
    expect(text).not.toMatch(/MadeUpName|AnotherName|alias1/);
  });
});

describe('METRICS_TOKEN', () => {
  const TOKEN = 'scrape-token-0123456789abcdef';
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi({ METRICS_TOKEN: TOKEN });
  });
  afterAll(() => api.stop());

  const scrape = (authorization?: string) => fetch(`${origin(api)}/metrics`, { headers: authorization ? { authorization } : {} });

  it('refuses a scrape without the token, or with a wrong one, with 401', async () => {
    for (const auth of [undefined, `Bearer wrong-token-0123456789abcdef`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const res = await scrape(auth);
      expect({ auth, status: res.status }).toEqual({ auth, status: 401 });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain('roundtable_');
    }
  });

  it('serves the metrics to the right bearer token', async () => {
    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE roundtable_messages_sent_total counter');
  });
});

describe('METRICS_PORT', () => {
  let api: TestApi;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    api = await startApi({ METRICS_PORT: String(port), METRICS_TOKEN: 'scrape-token-0123456789abcdef' });
  });
  afterAll(() => api.stop());

  it('serves /metrics on its own port (token still required) and not on the main port', async () => {
    const own = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789abcdef' } });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('roundtable_ws_connections_active');
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);

    const main = await fetch(`${origin(api)}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789abcdef' } });
    expect(main.status).toBe(404);
    expect(await main.text()).not.toContain('roundtable_');
  });

  it('serves nothing else on the metrics port', async () => {
    for (const path of ['/graphql', '/readyz', '/admin', '/']) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status).toBe(404);
    expect((await fetch(`${origin(api)}/readyz`)).status).toBe(200);
  });
});
