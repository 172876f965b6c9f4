/**
 * The client's mistakes are 4xx, with the right code, and quiet: no error-level log line,
 * never 500 or INTERNAL. And with introspection off no message suggests schema names.
 */
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import pino from 'pino';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp } from '../../api/src/app';
import { adminUrl } from '../support/admin';
import { createDatabase, TEST_SECRET, testConfig, TestApi, TestUser } from '../support/harness';

/** Every log line the service writes, parsed. */
class LogCapture extends Writable {
  readonly lines: Array<{ level: number; msg?: string; [k: string]: unknown }> = [];
  _write(chunk: Buffer, _enc: string, done: () => void) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
    done();
  }
  /** Lines at error level or above (pino: error 50, fatal 60). */
  errors() {
    return this.lines.filter((l) => l.level >= 50);
  }
}

async function startLogged(overrides: Record<string, string> = {}): Promise<{ api: TestApi; logs: LogCapture }> {
  const databaseUrl = await createDatabase();
  const config = testConfig({ LOG_LEVEL: 'info', ...overrides });
  const logs = new LogCapture();
  const app = await createApp(config, databaseUrl, pino({ level: 'info' }, logs));
  const port = await app.listen(0, '127.0.0.1');
  return { api: new TestApi(app, `http://127.0.0.1:${port}/graphql`, databaseUrl), logs };
}

const secret = new TextEncoder().encode(TEST_SECRET);
const signed = (claims: Record<string, unknown>, sub?: string) => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h');
  return (sub ? jwt.setSubject(sub) : jwt).sign(secret);
};

/** A POST with a body written by hand (JSON.stringify would itself overflow on deep nesting). */
async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: await res.json() };
}

/** One operation over graphql-ws; resolves with its errors (from `next` or `error`). */
function wsErrors(url: string, token: string, payload: { query: string; variables?: Record<string, unknown>; operationName?: string }): Promise<any[]> {
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  return new Promise<any[]>((resolve, reject) => {
    let errors: any[] = [];
    client.subscribe(payload, {
      next: (r) => void (errors = [...errors, ...((r.errors as any[]) ?? [])]),
      error: (e) => (Array.isArray(e) ? resolve(e) : reject(e)),
      complete: () => resolve(errors),
    });
  }).finally(() => client.dispose());
}

const NESTED = 45_000;

describe('client mistakes over HTTP', () => {
  let api: TestApi;
  let logs: LogCapture;
  let user: TestUser;
  let groupId: string;

  beforeAll(async () => {
    ({ api, logs } = await startLogged());
    const [a, b] = await api.users(2);
    user = a;
    groupId = await api.group(a, [b]);
  });
  afterAll(() => api.stop());

  const deep = () => '['.repeat(NESTED) + ']'.repeat(NESTED);
  const cases: Array<{ name: string; request: () => Promise<{ body: string; headers?: Record<string, string> }>; status: number; code: string }> = [
    {
      name: 'an Authorization header without "Bearer "',
      request: async () => ({ body: JSON.stringify({ query: '{ me { id } }' }), headers: { authorization: await api.token() } }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a token without sub',
      request: async () => ({ body: JSON.stringify({ query: '{ me { id } }' }), headers: { authorization: `Bearer ${await signed({ plan: 'free' })}` } }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a plan claim outside the enum',
      request: async () => ({ body: JSON.stringify({ query: '{ me { id } }' }), headers: { authorization: `Bearer ${await signed({ plan: 'platinum' }, 'someone')}` } }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a subscription sent over HTTP POST',
      request: async () => ({
        body: JSON.stringify({ query: 'subscription($g: ID!) { groupEvents(groupId: $g) { seq } }', variables: { g: groupId } }),
        headers: { authorization: `Bearer ${user.token}` },
      }),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
    {
      name: `a variable nested ${NESTED} levels deep (a page size)`,
      request: async () => ({
        body: `{"query":"query($g: ID!, $n: Int!) { messages(groupId: $g, first: $n) { edges { cursor } } }","variables":{"g":"${groupId}","n":${deep()}}}`,
        headers: { authorization: `Bearer ${user.token}` },
      }),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
    {
      name: `a variable nested ${NESTED} levels deep (an input list)`,
      request: async () => ({
        body: `{"query":"mutation($u: [String!]!) { addMembers(groupId: \\"${groupId}\\", usernames: $u) { id } }","variables":{"u":${deep()}}}`,
        headers: { authorization: `Bearer ${user.token}` },
      }),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
    {
      name: 'an anonymous query with operationName "B"',
      request: async () => ({ body: JSON.stringify({ query: '{ me { id } }', operationName: 'B' }) }),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
    {
      name: 'a signed-in query with operationName "B"',
      request: async () => ({ body: JSON.stringify({ query: '{ me { id } }', operationName: 'B' }), headers: { authorization: `Bearer ${user.token}` } }),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
  ];

  it.each(cases)('$name: $status $code, no error-level log line', async ({ request, status, code }) => {
    const { body, headers } = await request();
    const before = logs.lines.length;
    const res = await post(api.url, body, headers);
    expect({ status: res.status, codes: res.body.errors?.map((e: any) => e.extensions?.code) }).toEqual({ status, codes: [code] });
    expect(res.body.data ?? null).toBeNull();
    expect(logs.lines.slice(before).filter((l) => l.level >= 50)).toEqual([]);
  });

  it('over graphql-ws too: the deep variable and the unknown operation are BAD_USER_INPUT, quietly', async () => {
    const before = logs.lines.length;
    const unknown = await wsErrors(api.wsUrl, user.token, { query: '{ me { id } }', operationName: 'B' });
    // The client library cannot serialize such a value either; send the frame by hand.
    const deepErrors = await rawWsErrors(api.wsUrl, user.token, `{"id":"1","type":"subscribe","payload":{"query":"query($g: ID!, $n: Int!) { messages(groupId: $g, first: $n) { edges { cursor } } }","variables":{"g":"${groupId}","n":${deep()}}}}`);
    expect(unknown.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(deepErrors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(logs.lines.slice(before).filter((l) => l.level >= 50)).toEqual([]);
  });
});

/** Sends one raw subscribe frame after connection_init and resolves with the errors of its result. */
function rawWsErrors(url: string, token: string, frame: string): Promise<any[]> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  return new Promise<any[]>((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'connection_ack') ws.send(frame);
      else if (msg.type === 'error') resolve(msg.payload);
      else if (msg.type === 'next') resolve(msg.payload.errors ?? []);
    });
    ws.on('close', (code) => reject(new Error(`socket closed with ${code}`)));
    ws.on('error', reject);
  }).finally(() => ws.close());
}

describe('with introspection off, no message suggests schema names', () => {
  let api: TestApi;
  let user: TestUser;
  let groupId: string;
  beforeAll(async () => {
    ({ api } = await startLogged({ GRAPHQL_INTROSPECTION: 'false' }));
    const [a, b] = await api.users(2);
    user = a;
    groupId = await api.group(a, [b]);
  });
  afterAll(() => api.stop());

  const mistakes = () => [
    { query: '{ me { usernme } }' },
    { query: '{ grops { edges { cursor } } }' },
    { query: `mutation { updateGroup(groupId: "${groupId}", input: { aiMode: AUTOO }) { id } }` },
    { query: 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', variables: { i: { grupId: groupId, body: 'x', clientMessageId: 'c' } } },
  ];

  it('on /graphql over HTTP', async () => {
    for (const m of mistakes()) {
      const r = await api.gql(user.token, m.query, m.variables ?? {});
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors!.map((e) => e.message).join('\n')).not.toMatch(/did you mean/i);
    }
  });

  it('on /graphql over graphql-ws', async () => {
    for (const m of mistakes()) {
      const errors = await wsErrors(api.wsUrl, user.token, m);
      expect(errors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(errors.map((e) => e.message).join('\n')).not.toMatch(/did you mean/i);
    }
  });

  it('on /admin/graphql', async () => {
    for (const query of ['{ dashbord { openCases } }', '{ dashboard { openCase } }']) {
      const r = await post(adminUrl(api), JSON.stringify({ query }));
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(r.body.errors.map((e: any) => e.message).join('\n')).not.toMatch(/did you mean/i);
    }
  });

  it('while with introspection on the same mistakes do get suggestions (what is hidden above is real)', async () => {
    const { api: open } = await startLogged({ GRAPHQL_INTROSPECTION: 'true' });
    try {
      const [u] = await open.users(1);
      const r = await open.gql(u.token, '{ me { usernme } }');
      expect(r.errors![0].message).toMatch(/Did you mean "username"\?/);
      const admin = await post(adminUrl(open), JSON.stringify({ query: '{ dashbord { openCases } }' }));
      expect(admin.body.errors[0].message).toMatch(/Did you mean "dashboard"\?/);
    } finally {
      await open.stop();
    }
  });
});
