/**
 * Integration harness: a real API process (HTTP + graphql-ws) on a fresh PostgreSQL
 * database of its own, with a GraphQL client, a graphql-ws client and factories.
 */
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createClient, Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import pino from 'pino';
import { createApp, App } from '../../api/src/app';
import { Config, loadConfig } from '../../api/src/config/env';
import { signDevToken, DevTokenInput } from '../../api/src/auth/jwt';
import { Wakeup } from './wakeup';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface GqlResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown } }>;
  status: number;
}

export interface TestUser {
  id: string;
  token: string;
  username: string;
  sub: string;
}

/** Creates an empty database on the test server and returns its URL. */
export async function createDatabase(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set: run through jest (globalSetup starts PostgreSQL)');
  const name = `rt_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new PgClient({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HOST: '127.0.0.1',
    MESSAGE_RATE_PER_MINUTE: '100000',
    ...overrides,
  });
}

export class TestApi {
  private sockets: WsClient[] = [];
  private counter = 0;

  constructor(
    readonly app: App,
    readonly url: string,
    readonly databaseUrl: string,
  ) {}

  get wsUrl(): string {
    return this.url.replace(/^http/, 'ws');
  }

  async gql<T = any>(token: string | null, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GqlResult<T>> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GqlResult<T>;
    return { ...body, status: res.status };
  }

  /** Runs an operation and fails the test with the errors if there are any. */
  async ok<T = any>(token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.gql<T>(token, query, variables);
    if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data as T;
  }

  token(input: Partial<DevTokenInput> & { sub?: string } = {}): Promise<string> {
    return signDevToken(TEST_SECRET, { sub: input.sub ?? `user-${randomUUID()}`, plan: 'plus', region: 'DE', age: 'adult', ...input });
  }

  /** A user with a public profile (unless `profile: false`). */
  async user(input: Partial<DevTokenInput> & { profile?: boolean; username?: string } = {}): Promise<TestUser> {
    const sub = input.sub ?? `user-${randomUUID()}`;
    const token = await this.token({ ...input, sub });
    const username = input.username ?? `u${++this.counter}_${randomUUID().slice(0, 8)}`;
    if (input.profile === false) {
      const me = await this.ok(token, `{ me { id } }`);
      return { id: me.me.id, token, username: '', sub };
    }
    const r = await this.ok(token, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, {
      i: { displayName: `User ${username}`, username, photoUrl: `https://example.test/${username}.png` },
    });
    return { id: r.upsertProfile.id, token, username, sub };
  }

  async users(n: number, input: Partial<DevTokenInput> = {}): Promise<TestUser[]> {
    return Promise.all(Array.from({ length: n }, () => this.user(input)));
  }

  /** A group owned by `owner` with `members` added at creation. */
  async group(owner: TestUser, members: TestUser[] = [], title = 'Test group'): Promise<string> {
    const r = await this.ok(owner.token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, {
      i: { title, memberUsernames: members.map((m) => m.username) },
    });
    return r.createGroup.id;
  }

  async send(user: TestUser, groupId: string, body: string, clientMessageId = randomUUID()): Promise<any> {
    const r = await this.ok(user.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq body } }`, {
      i: { groupId, body, clientMessageId },
    });
    return r.sendMessage;
  }

  /** A graphql-ws client authenticated as `token` (closed in stop()). */
  ws(token: string | null, options: { lazy?: boolean; retryAttempts?: number } = {}): WsClient {
    const client = createClient({
      url: this.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      lazy: options.lazy ?? true,
      retryAttempts: options.retryAttempts ?? 0,
    });
    this.sockets.push(client);
    return client;
  }

  /** Subscribes to groupEvents and collects what arrives. */
  subscribe(token: string, groupId: string, afterSeq?: number, selection = EVENT_SELECTION): EventCollector {
    return new EventCollector(this.ws(token), groupId, afterSeq, selection);
  }

  async query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.app.services.db.query(sql, params);
  }

  async stop(): Promise<void> {
    await Promise.all(this.sockets.map((s) => s.dispose()));
    await this.app.stop();
  }
}

export const EVENT_SELECTION = `seq type groupId actor { id } message { id seq body status author { id } } member { user { id } role } typing { user { id } isTyping }`;

export class EventCollector {
  readonly events: any[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private readonly arrivals = new Wakeup();
  readonly unsubscribe: () => void;

  constructor(client: WsClient, groupId: string, afterSeq: number | undefined, selection: string) {
    this.unsubscribe = client.subscribe(
      {
        query: `subscription($g: ID!, $a: Int) { groupEvents(groupId: $g, afterSeq: $a) { ${selection} } }`,
        variables: { g: groupId, a: afterSeq ?? null },
      },
      {
        next: (v) => {
          this.events.push(v.data?.groupEvents ?? v);
          this.wake();
        },
        error: (e) => {
          this.errors.push(e);
          this.completed = true;
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  private wake() {
    this.arrivals.wake();
  }

  /** Waits until `predicate` holds for the collected events (or the stream ends). */
  async until(predicate: (events: any[]) => boolean, timeoutMs = 10_000): Promise<any[]> {
    const done = () => {
      if (predicate(this.events)) return true;
      if (this.completed) throw new Error(`subscription ended before the condition held; got ${JSON.stringify(this.events)} errors ${JSON.stringify(this.errors)}`);
      return false;
    };
    await this.arrivals.until(done, timeoutMs, () => new Error(`timed out; got ${this.events.length} events: ${JSON.stringify(this.events).slice(0, 2000)}`));
    return this.events;
  }

  async untilCount(n: number, timeoutMs?: number): Promise<any[]> {
    return this.until((e) => e.length >= n, timeoutMs);
  }

  async untilDone(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.completed) {
      if (Date.now() > deadline) throw new Error('subscription did not end');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves once the server has acknowledged the subscription by delivering a first event or when it is live. */
  seqs(): number[] {
    return this.events.filter((e) => e.seq != null).map((e) => e.seq);
  }
}

/** Starts an API process on a fresh database (or `databaseUrl`). */
export async function startApi(overrides: Record<string, string> = {}, databaseUrl?: string): Promise<TestApi> {
  const dbUrl = databaseUrl ?? (await createDatabase());
  const config = testConfig(overrides);
  const log = pino({ level: config.logLevel });
  const app = await createApp(config, dbUrl, log);
  const port = await app.listen(0, '127.0.0.1');
  return new TestApi(app, `http://127.0.0.1:${port}/graphql`, dbUrl);
}

/** Two API processes on one fresh database, as in a deployment with several instances. */
export async function startTwoApis(overrides: Record<string, string> = {}): Promise<[TestApi, TestApi]> {
  const databaseUrl = await createDatabase();
  // One after the other: both would otherwise race to run the migrations.
  const a = await startApi(overrides, databaseUrl);
  const b = await startApi(overrides, databaseUrl);
  return [a, b];
}

/** Waits until a condition holds, polling. */
/** Resolves with the close code once a graphql-ws connection with `token` is closed, or with 'connected'. */
export async function wsConnectionOutcome(target: TestApi, token: string | null): Promise<number | 'connected'> {
  const client = createClient({
    url: target.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {},
  });
  try {
    return await new Promise((resolve) => {
      client.on('connected', () => resolve('connected'));
      client.on('closed', (e) => resolve((e as { code: number }).code));
    });
  } finally {
    await client.dispose();
  }
}

export async function eventually(fn: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition did not hold in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The first error of a result, for asserting on its code and extensions; throws when there is none. */
export function errorOf(r: GqlResult): { message: string; code: string | undefined; extensions: Record<string, unknown> } {
  const e = r.errors?.[0];
  if (!e) throw new Error(`expected an error, got ${JSON.stringify(r.data)}`);
  return { message: e.message, code: e.extensions?.code, extensions: e.extensions ?? {} };
}

/** The error codes a GraphQL result carries, in order. */
export function errorCodes(r: { errors?: Array<{ extensions?: { code?: string } }> }): Array<string | undefined> {
  return (r.errors ?? []).map((e) => e.extensions?.code);
}

/** Every error a subscription ended with: `error` frames and errors carried in `next` payloads. */
export function subscriptionErrors(c: EventCollector): Array<{ message: string; extensions?: { code?: string; [k: string]: unknown } }> {
  const fromError = c.errors.flatMap((e) => (Array.isArray(e) ? e : [e])) as Array<{ message: string; extensions?: { code?: string } }>;
  const fromNext = c.events.flatMap((e) => (Array.isArray(e?.errors) ? e.errors : []));
  return [...fromError, ...fromNext];
}

export interface LiveSubscription {
  events: EventCollector;
  client: WsClient;
  /** The group's last seq when the subscription was known to be live; later events have higher seqs. */
  since: number;
}

/**
 * Subscribes to groupEvents and resolves once the server has registered the subscription:
 * it resumes one event back and waits for that event, so no sleep is needed before
 * publishing. `selection` must include `seq`.
 */
export async function liveSubscription(api: TestApi, user: TestUser, groupId: string, selection = EVENT_SELECTION): Promise<LiveSubscription> {
  const since = await lastSeq(api, groupId);
  if (since < 1) throw new Error('liveSubscription needs a group with at least one event');
  const client = api.ws(user.token);
  const events = new EventCollector(client, groupId, since - 1, selection);
  await events.until((e) => e.some((x) => x.seq === since));
  return { events, client, since };
}

/** The group's current last seq. */
export async function lastSeq(api: TestApi, groupId: string): Promise<number> {
  const [g] = await api.query<{ lastSeq: number }>(`SELECT last_seq::int AS "lastSeq" FROM groups WHERE id = $1`, [groupId]);
  return g.lastSeq;
}

/** Integers from `from` to `to`, inclusive. */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
