/**
 * A loopback HTTP server that speaks enough of the OpenAI API for the official SDK:
 * chat completions (plain and SSE streaming, with the usage chunk) and moderations.
 * Every request is recorded; replies are programmable per request. It runs in the
 * test's own process, so its `performance.now()` timestamps compare directly with the
 * clients' in a benchmark.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface FakeReply {
  /** Whole reply; split into chunks of ~4 chars unless `chunks` is given. */
  text?: string;
  /** Explicit pieces. */
  chunks?: string[];
  /** Delay between chunks (default 0). */
  chunkDelayMs?: number;
  firstChunkDelayMs?: number;
  /** Respond with this HTTP error status and an OpenAI-style error JSON instead (e.g. 500, 429, 400). */
  status?: number;
  /** Destroy the socket after this many content chunks (mid-stream failure). */
  failAfterChunks?: number;
  /** Wait this long before answering at all (for timeouts/cancellation). */
  hangMs?: number;
  /**
   * A provider that stops mid-stream: after this many content chunks (0: right after the
   * headers), send nothing until `resume` settles, then go on, if the client is still there.
   */
  stallAfterChunks?: number;
  resume?: Promise<unknown>;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  receivedAt: number;
  firstTokenAt?: number;
  lastTokenAt?: number;
  aborted?: boolean;
  /** The reply stalled as programmed (`stallAfterChunks`)... */
  stalled?: boolean;
  /** ...and, when `resume` settled, the client was still connected and the rest was sent. */
  resumed?: boolean;
}

export type ChatHandler = (body: any) => FakeReply | Promise<FakeReply>;
export type ModerationOutcome = { flagged: boolean; category_scores: Record<string, number> } | 'error';
/** May be async: a test can hold a moderation call open. */
export type ModerationHandler = (input: string) => ModerationOutcome | Promise<ModerationOutcome>;

/** The keys the moderation endpoint scores, as omni-moderation returns them. */
export const MODERATION_KEYS = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
  'illicit',
  'illicit/violent',
] as const;

const ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    // A streamed reply sleeps once per chunk: each sleep takes its abort listener with it.
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Text of a chat message's content, whether a string or a list of parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

const tokens = (chars: number): number => Math.ceil(chars / 4);

function promptTokens(body: any): number {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  return tokens(messages.reduce((n, m) => n + contentText(m?.content).length, 0));
}

function defaultChat(body: any): FakeReply {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
  return { text: `Reply to: ${contentText(lastUser?.content)}`.slice(0, 200) };
}

function defaultModeration(): { flagged: boolean; category_scores: Record<string, number> } {
  return { flagged: false, category_scores: Object.fromEntries(MODERATION_KEYS.map((k) => [k, 0.01])) };
}

function piecesOf(reply: FakeReply): string[] {
  if (reply.chunks) return reply.chunks;
  const text = reply.text ?? '';
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 4) pieces.push(text.slice(i, i + 4));
  return pieces;
}

export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  private queue: FakeReply[] = [];
  private chatHandler: ChatHandler | null = null;
  private moderationHandler: ModerationHandler | null = null;
  private readonly sockets = new Set<Socket>();
  private waiters: Array<{ n: number; resolve: (r: RecordedRequest[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private counter = 0;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<FakeOpenAI> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const fake = new FakeOpenAI(server, `http://127.0.0.1:${port}/v1`);
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      fake.handle(req, res).catch((err) => {
        if (!res.headersSent && !res.destroyed) fake.sendError(res, 500, `fake-openai: ${String(err)}`);
        else res.destroy();
      });
    });
    return fake;
  }

  chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/chat/completions');
  }

  moderationRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/moderations');
  }

  /** Replies consumed in order by chat requests, before the default handler. */
  enqueue(...replies: FakeReply[]): void {
    this.queue.push(...replies);
  }

  onChat(handler: ChatHandler | null): void {
    this.chatHandler = handler;
  }

  onModeration(handler: ModerationHandler | null): void {
    this.moderationHandler = handler;
  }

  /** Resolves with the chat requests once at least `n` have been received. */
  waitForChatRequests(n: number, timeoutMs = 5000): Promise<RecordedRequest[]> {
    const now = this.chatRequests();
    if (now.length >= n) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`fake-openai: expected ${n} chat requests within ${timeoutMs} ms, got ${this.chatRequests().length}`));
      }, timeoutMs);
      this.waiters.push({ n, resolve, reject, timer });
    });
  }

  reset(): void {
    this.queue = [];
    this.chatHandler = null;
    this.moderationHandler = null;
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error('fake-openai stopped'));
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const raw = await readBody(req);
    let body: any = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const path = (req.url ?? '/').split('?')[0];
    const record: RecordedRequest = { method: req.method ?? 'GET', path, headers: { ...req.headers }, body, receivedAt };
    this.requests.push(record);

    // A response closed before we ended it was cut off by the client.
    const closed = new AbortController();
    let selfDestroyed = false;
    res.on('close', () => {
      if (!res.writableEnded && !selfDestroyed) record.aborted = true;
      closed.abort();
    });
    const cut = () => {
      selfDestroyed = true;
      res.socket?.destroy();
      res.destroy();
    };

    if (req.method === 'POST' && path === '/v1/chat/completions') {
      this.notifyChat();
      return this.chat(body, record, res, closed.signal, cut);
    }
    if (req.method === 'POST' && path === '/v1/moderations') return this.moderation(body, res);
    this.sendError(res, 404, `fake-openai: no route for ${req.method} ${path}`);
  }

  private notifyChat(): void {
    const count = this.chatRequests().length;
    const ready = this.waiters.filter((w) => count >= w.n);
    this.waiters = this.waiters.filter((w) => count < w.n);
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve(this.chatRequests());
    }
  }

  private async chat(body: any, record: RecordedRequest, res: ServerResponse, closed: AbortSignal, cut: () => void): Promise<void> {
    const reply = this.queue.shift() ?? (await (this.chatHandler ?? defaultChat)(body));
    await sleep(reply.hangMs ?? 0, closed);
    if (closed.aborted) return;
    if (reply.status && reply.status >= 400) return this.sendError(res, reply.status, `fake-openai: status ${reply.status} as programmed`);

    const model = typeof body?.model === 'string' ? body.model : 'fake-model';
    const id = `chatcmpl-fake${++this.counter}`;
    const created = Math.floor(Date.now() / 1000);
    const pieces = piecesOf(reply);
    const text = pieces.join('');
    const prompt = reply.usage?.prompt_tokens ?? promptTokens(body);
    const completion = reply.usage?.completion_tokens ?? tokens(text.length);
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };

    if (body?.stream !== true) {
      await sleep(reply.firstChunkDelayMs ?? 0, closed);
      if (closed.aborted) return;
      record.firstTokenAt = record.lastTokenAt = performance.now();
      const completionJson = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completionJson));
      return;
    }

    const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    const delta = (d: Record<string, unknown>, finish: string | null = null) => [{ index: 0, delta: d, logprobs: null, finish_reason: finish }];

    // Destroying the socket drops whatever it has not yet flushed, so a mid-stream failure
    // waits for the chunks already written: the client sees them, then the connection dies.
    let flushed: Promise<void> = Promise.resolve();
    const write = (data: string) => {
      flushed = new Promise((resolve) => res.write(data, () => resolve()));
    };
    const fail = async () => {
      await flushed;
      cut();
    };

    const stall = async (at: number): Promise<void> => {
      if (reply.stallAfterChunks !== at) return;
      record.stalled = true;
      await Promise.race([reply.resume ?? new Promise(() => undefined), new Promise((resolve) => (closed.aborted ? resolve(null) : closed.addEventListener('abort', resolve, { once: true })))]);
      if (!closed.aborted) record.resumed = true;
    };

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    write(frame(delta({ role: 'assistant', content: '' })));
    for (let i = 0; i < pieces.length; i++) {
      await stall(i);
      await sleep(i === 0 ? (reply.firstChunkDelayMs ?? 0) : (reply.chunkDelayMs ?? 0), closed);
      if (closed.aborted) return;
      if (reply.failAfterChunks !== undefined && i >= reply.failAfterChunks) return fail();
      write(frame(delta({ content: pieces[i] })));
      const now = performance.now();
      record.firstTokenAt ??= now;
      record.lastTokenAt = now;
    }
    if (reply.failAfterChunks !== undefined && pieces.length <= reply.failAfterChunks) return fail();
    await stall(pieces.length);
    if (closed.aborted) return;
    write(frame(delta({}, 'stop')));
    if (body?.stream_options?.include_usage === true) write(frame([], { usage }));
    res.end('data: [DONE]\n\n');
  }

  private async moderation(body: any, res: ServerResponse): Promise<void> {
    const inputs: string[] = Array.isArray(body?.input) ? body.input.map(contentText) : [contentText(body?.input)];
    const handler = this.moderationHandler ?? defaultModeration;
    const outcomes = await Promise.all(inputs.map((input) => handler(input)));
    if (outcomes.some((o) => o === 'error')) return this.sendError(res, 500, 'fake-openai: moderation failure as programmed');
    const results = outcomes.map((o) => {
      const { flagged, category_scores } = o as Exclude<typeof o, 'error'>;
      const scores: Record<string, number> = { ...defaultModeration().category_scores, ...category_scores };
      return {
        flagged,
        categories: Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, v >= 0.5])),
        category_scores: scores,
        category_applied_input_types: Object.fromEntries(Object.keys(scores).map((k) => [k, ['text']])),
      };
    });
    const json = { id: `modr-fake${++this.counter}`, model: typeof body?.model === 'string' ? body.model : 'omni-moderation-latest', results };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  }

  private sendError(res: ServerResponse, status: number, message: string): void {
    const { type, code } = ERROR_TYPES[status] ?? { type: 'server_error', code: null };
    res
      .writeHead(status, {
        'content-type': 'application/json',
        // The SDK's default backoff before a retry is ~0.5 s; this keeps retry tests fast.
        'retry-after-ms': '1',
      })
      .end(JSON.stringify({ error: { message, type, param: null, code } }));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** A `resume` for a stalled reply (`stallAfterChunks`) that the test opens when the provider may go on. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
