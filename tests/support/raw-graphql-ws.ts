/**
 * A bare graphql-transport-ws client over `ws`, for tests that watch one socket closely:
 * operations run one frame each, and the close code and reason are kept, with no retry
 * or reconnect between the test and the server.
 *
 *   const s = await RawGraphqlWs.connect(api.wsUrl, token);
 *   const r = await s.run(`mutation { ... }`);        // { data, errors } as over HTTP
 *   const { code, reason } = await s.closed;          // once the server closes it
 */
import WebSocket from 'ws';

export interface RawResult {
  data?: any;
  errors?: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown } }>;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Thrown by `run` when the socket closes before the operation completes. */
export class SocketClosed extends Error {
  constructor(readonly close: CloseInfo) {
    super(`socket closed with ${close.code} ${close.reason}`);
  }
}

interface Pending {
  onNext(payload: RawResult): void;
  onError(errors: RawResult['errors']): void;
  onComplete(): void;
}

export class RawGraphqlWs {
  private static open = new Set<RawGraphqlWs>();
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private closeInfo: CloseInfo | null = null;
  /** Resolves with the code and reason once the socket is closed (by either side). */
  readonly closed: Promise<CloseInfo>;

  private constructor(readonly socket: WebSocket) {
    RawGraphqlWs.open.add(this);
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        RawGraphqlWs.open.delete(this);
        this.closeInfo = { code, reason: String(reason) };
        for (const p of this.pending.values()) p.onError(undefined);
        this.pending.clear();
        resolve(this.closeInfo);
      });
    });
    socket.on('error', () => {});
    socket.on('message', (raw) => this.dispatch(JSON.parse(String(raw))));
  }

  /** Opens a socket and authenticates with `token`; rejects with SocketClosed when the server refuses it. */
  static async connect(wsUrl: string, token: string | null, payload?: Record<string, unknown>): Promise<RawGraphqlWs> {
    const s = new RawGraphqlWs(new WebSocket(wsUrl, 'graphql-transport-ws'));
    const acked = new Promise<void>((resolve) => (s.onAck = resolve));
    await new Promise<void>((resolve, reject) => {
      s.socket.once('open', () => resolve());
      s.socket.once('error', reject);
    });
    s.socket.send(JSON.stringify({ type: 'connection_init', payload: payload ?? (token ? { authorization: `Bearer ${token}` } : {}) }));
    await Promise.race([acked, s.closed.then((c) => Promise.reject(new SocketClosed(c)))]);
    return s;
  }

  /** Closes every socket a test left open. */
  static async closeAll(): Promise<void> {
    await Promise.all([...RawGraphqlWs.open].map((s) => s.close()));
  }

  private onAck: () => void = () => {};

  get isOpen(): boolean {
    return this.closeInfo === null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Runs a query or mutation: resolves with its result, or with an `error` frame's errors as `errors`. */
  run(query: string, variables: Record<string, unknown> = {}): Promise<RawResult> {
    return new Promise((resolve, reject) => {
      if (this.closeInfo) return reject(new SocketClosed(this.closeInfo));
      let last: RawResult = {};
      const id = this.start(query, variables, {
        onNext: (p) => (last = p),
        onError: (errors) => (errors ? resolve({ errors }) : reject(new SocketClosed(this.closeInfo ?? { code: 0, reason: '' }))),
        onComplete: () => resolve(last),
      });
      void id;
    });
  }

  /** Starts a subscription; `next` receives each payload. Returns a function that completes it. */
  subscribe(query: string, variables: Record<string, unknown>, next: (p: RawResult) => void, done: (errors?: RawResult['errors']) => void = () => {}): () => void {
    const id = this.start(query, variables, { onNext: next, onError: done, onComplete: () => done() });
    return () => {
      if (this.pending.delete(id) && this.isOpen) this.socket.send(JSON.stringify({ id, type: 'complete' }));
    };
  }

  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(1000, 'test done');
    await this.closed;
  }

  private start(query: string, variables: Record<string, unknown>, p: Pending): string {
    const id = String(++this.nextId);
    this.pending.set(id, p);
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    return id;
  }

  private dispatch(msg: { type: string; id?: string; payload?: any }): void {
    if (msg.type === 'connection_ack') return this.onAck();
    if (msg.type === 'ping') return void this.socket.send(JSON.stringify({ type: 'pong' }));
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'next') p.onNext(msg.payload);
    else if (msg.type === 'error') {
      this.pending.delete(msg.id!);
      p.onError(msg.payload);
    } else if (msg.type === 'complete') {
      this.pending.delete(msg.id!);
      p.onComplete();
    }
  }
}
