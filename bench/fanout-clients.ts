/**
 * The load generator's side of the fan-out bench: delivery bookkeeping, graphql-ws and
 * raw `ws` subscribers, and one kind of keep-alive HTTP client for both the service and the
 * raw baselines. Times are CLOCK_MONOTONIC nanoseconds (`process.hrtime`), stamped in this
 * process: a message's start just before its HTTP request, each receipt as its frame arrives.
 */
import { Pool } from 'undici';
import WebSocket from 'ws';

export const now = (): number => Number(process.hrtime.bigint());

interface Entry {
  t0: number;
  recv: number[];
  done: (() => void) | null;
}

/** Summary of one measured run. */
export interface RunResult {
  sent: number;
  expected: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  /** Deliveries received while the load was applied, per second of load. */
  perSecond: number;
  failures: number;
}

/** One run's messages, keyed by clientMessageId, and when each subscriber got them. */
export class Run {
  readonly entries = new Map<string, Entry>();
  failures = 0;
  private settled = 0;

  constructor(readonly subscribersPerGroup: number) {}

  /** Registers a message before it is sent; resolves once every subscriber of its group has it. */
  expect(cmid: string, t0: number): Promise<void> {
    return new Promise((resolve) => {
      this.entries.set(cmid, { t0, recv: [], done: resolve });
    });
  }

  /** A send that failed: stop waiting for it (its missing deliveries still count against the run). */
  abandon(cmid: string): void {
    const e = this.entries.get(cmid);
    if (e) this.settle(e);
  }

  private settle(e: Entry): void {
    if (!e.done) return;
    e.done();
    e.done = null;
    this.settled++;
  }

  received(cmid: string, t: number): void {
    const e = this.entries.get(cmid);
    if (!e) return;
    e.recv.push(t);
    if (e.recv.length === this.subscribersPerGroup) this.settle(e);
  }

  /** Waits until every message reached every subscriber, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.settled < this.entries.size) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  result(): RunResult {
    const lat: number[] = [];
    let inWindow = 0;
    let firstSend = Infinity;
    let lastSend = 0;
    for (const e of this.entries.values()) {
      if (e.t0 < firstSend) firstSend = e.t0;
      if (e.t0 > lastSend) lastSend = e.t0;
    }
    for (const e of this.entries.values()) {
      for (const t of e.recv) {
        lat.push((t - e.t0) / 1e6);
        if (t <= lastSend) inWindow++;
      }
    }
    lat.sort((a, b) => a - b);
    const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : NaN);
    return {
      sent: this.entries.size,
      expected: this.entries.size * this.subscribersPerGroup,
      delivered: lat.length,
      p50: pct(50),
      p99: pct(99),
      max: lat.length ? lat[lat.length - 1] : NaN,
      perSecond: lastSend > firstSend ? inWindow / ((lastSend - firstSend) / 1e9) : NaN,
      failures: this.failures,
    };
  }
}

/**
 * Checks that every subscriber of a group received the same payload bytes for an event:
 * the server serialized it once and copied it, rather than building it per subscriber.
 */
export class PayloadCheck {
  identical = 0;
  mismatched = 0;
  private readonly open = new Map<string, { payload: string; n: number }>();

  constructor(private readonly subscribersPerGroup: number) {}

  frame(group: number, raw: string): void {
    if (!raw.includes('"type":"next"')) return;
    const payload = raw.slice(raw.indexOf('"payload":') + 10, -1);
    const cmid = /"clientMessageId":"([^"]*)"/.exec(payload)?.[1];
    if (!cmid) return;
    const key = `${group}:${cmid}`;
    const seen = this.open.get(key);
    if (!seen) {
      this.open.set(key, { payload, n: 1 });
    } else if (seen.payload !== payload) {
      this.mismatched++;
    } else if (++seen.n === this.subscribersPerGroup) {
      this.identical++;
      this.open.delete(key);
    }
  }
}

/** Per-subscriber order check: every event's seq is the previous one plus one. */
export class OrderCheck {
  gaps = 0;
  duplicates = 0;
  private last: number | null = null;

  seq(seq: number): void {
    if (this.last !== null) {
      if (seq <= this.last) this.duplicates++;
      else if (seq !== this.last + 1) this.gaps++;
    }
    this.last = seq;
  }
}

export const EVENT_SELECTION = `seq type groupId occurredAt actor { id username displayName }
  message { id seq body clientMessageId createdAt author { id username displayName photoUrl } }`;

export interface SubscriberHooks {
  group: number;
  /** Every raw frame, before graphql-ws parses it. */
  onFrame(raw: string): void;
  onEvent(event: { seq: number | null; message?: { clientMessageId?: string } | null }, t: number): void;
  onError(err: unknown): void;
}

/** A live subscription of the bench; `dispose` ends it and closes its socket. */
export interface Subscriber {
  dispose(): Promise<void>;
}

/**
 * One graphql-ws subscriber (its own socket) on one group's events. It speaks the
 * graphql-transport-ws protocol directly over `ws` (init, ack, subscribe, next, ping/pong)
 * and parses each frame once with JSON.parse, exactly the client-side work the raw
 * baseline's sockets do. The graphql-ws library client validated and re-parsed every
 * frame: on this 2-core machine that CPU came out of what the servers could use.
 */
export function graphqlWsSubscriber(url: string, token: string, groupId: string, hooks: SubscriberHooks, selection = EVENT_SELECTION): Subscriber {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let acknowledged = false;
  let disposed = false;
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  socket.on('message', (data) => {
    const t = now();
    const raw = String(data);
    hooks.onFrame(raw);
    const frame = JSON.parse(raw) as { type: string; payload?: { data?: { groupEvents?: Parameters<SubscriberHooks['onEvent']>[0] }; errors?: unknown } | unknown[] };
    switch (frame.type) {
      case 'next': {
        const e = (frame.payload as { data?: { groupEvents?: Parameters<SubscriberHooks['onEvent']>[0] } }).data?.groupEvents;
        if (e) hooks.onEvent(e, t);
        else hooks.onError(frame.payload);
        return;
      }
      case 'connection_ack':
        acknowledged = true;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription($g: ID!) { groupEvents(groupId: $g) { ${selection} } }`, variables: { g: groupId } } }));
        return;
      case 'ping':
        socket.send('{"type":"pong"}');
        return;
      case 'pong':
        return;
      case 'error':
        hooks.onError(frame.payload);
        return;
      case 'complete':
        hooks.onError(new Error('subscription completed'));
        return;
      default:
        hooks.onError(new Error(`unexpected frame ${raw.slice(0, 200)}`));
    }
  });
  socket.on('error', (err) => hooks.onError(err));
  socket.on('close', (code, reason) => {
    if (!disposed) hooks.onError(new Error(`socket closed ${code} ${String(reason)}${acknowledged ? '' : ' before connection_ack'}`));
  });
  return {
    dispose: () => {
      disposed = true;
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000, 'bench done');
      });
    },
  };
}

/** One plain `ws` socket on the baseline server, parsing each frame as a client would. */
export function rawSubscriber(url: string, hooks: SubscriberHooks): Promise<WebSocket> {
  const socket = new WebSocket(url);
  socket.on('message', (data) => {
    const t = now();
    const raw = String(data);
    hooks.onFrame(raw);
    const frame = JSON.parse(raw) as { payload: { data: { groupEvents: Parameters<SubscriberHooks['onEvent']>[0] } } };
    hooks.onEvent(frame.payload.data.groupEvents, t);
  });
  socket.on('error', (err) => hooks.onError(err));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Keep-alive JSON-over-HTTP client on undici's connection pool: on this 2-core machine
 * the load generator's own CPU comes out of what the servers can use, and node:http's
 * client cost about twice as much per request. The service's GraphQL requests and the raw
 * baselines' sends both go through it, so both pay the same client.
 */
export class JsonHttp {
  private readonly pool: Pool;

  constructor(origin: string) {
    this.pool = new Pool(origin, { connections: 128 });
  }

  /** POSTs `payload` as JSON; resolves to the status and the parsed JSON answer. */
  async post<T>(path: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: T }> {
    const { statusCode, body } = await this.pool.request({
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
    return { status: statusCode, json: (await body.json()) as T };
  }

  close(): void {
    void this.pool.close();
  }
}

/** GraphQL over HTTP on `JsonHttp`; rejects on any GraphQL error. */
export class GraphqlHttp {
  private readonly http: JsonHttp;

  constructor(private readonly url: URL) {
    this.http = new JsonHttp(url.origin);
  }

  async request<T = Record<string, unknown>>(token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const { json } = await this.http.post<{ data?: T; errors?: unknown[] }>(this.url.pathname, { query, variables }, token ? { authorization: `Bearer ${token}` } : {});
    if (json.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(json.errors).slice(0, 500)}`);
    return json.data as T;
  }

  close(): void {
    this.http.close();
  }
}
