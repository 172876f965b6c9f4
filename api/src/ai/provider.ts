/**
 * The model provider: the official `openai` SDK against any OpenAI-compatible endpoint.
 * The SDK retries transient failures (connection errors, 408, 409, 429, 5xx) before a
 * stream starts and enforces the timeout until the headers; the reply's clock bounds the
 * rest (see reply-clock.ts); an aborted signal cancels the request.
 */
import type { IncomingMessage } from 'node:http';
import OpenAI, { APIError, OpenAIError } from 'openai';
import type { AiConfig } from '../config/env';
import type { ChatMessage } from '../domain/prompt/build-prompt';
import { CategoryScores, moderationFromOpenAI } from '../domain/safety/moderation';
import { createNodeFetch, nodeBody } from './node-fetch';
import { ReplyClock } from './reply-clock';
import { createParser, EventSourceParser } from 'eventsource-parser';

export interface StreamRequest {
  model: string;
  messages: ChatMessage[];
  signal?: AbortSignal;
  /** Called for every text fragment as it arrives. */
  onDelta?: (text: string) => void;
  /** Called once, when the provider's first token arrives. */
  onFirstToken?: () => void;
  maxTokens?: number;
}

export interface Completion {
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
}

export class ProviderNotConfigured extends Error {
  constructor() {
    super('No model provider is configured (OPENAI_BASE_URL / OPENAI_API_KEY)');
  }
}

export interface ModelProvider {
  readonly configured: boolean;
  /** Streams a chat completion; resolves with the whole text and token usage. */
  stream(req: StreamRequest): Promise<Completion>;
  /** Scores text with the provider's moderation endpoint. */
  moderate(text: string, signal?: AbortSignal): Promise<CategoryScores>;
}

export class OpenAIProvider implements ModelProvider {
  readonly configured: boolean;
  private readonly client: OpenAI | null;

  constructor(private readonly config: AiConfig) {
    this.configured = config.configured;
    this.client = config.configured
      ? new OpenAI({
          baseURL: config.baseUrl ?? undefined,
          // Local OpenAI-compatible servers accept any key.
          apiKey: config.apiKey ?? 'not-needed',
          timeout: config.timeoutMs,
          maxRetries: config.maxRetries,
          fetch: createNodeFetch(),
        })
      : null;
  }

  /**
   * Every reply runs on a ReplyClock: past AI_REPLY_DEADLINE_MS in all, or AI_STREAM_IDLE_MS
   * between two tokens, the request is cut off and ReplyTimeout thrown.
   */
  async stream(req: StreamRequest): Promise<Completion> {
    if (!this.client) throw new ProviderNotConfigured();
    const clock = new ReplyClock(this.config, req.signal);
    try {
      return await this.streamOn(req, clock);
    } catch (err) {
      throw clock.expired ?? err;
    } finally {
      clock.stop();
    }
  }

  private async streamOn(req: StreamRequest, clock: ReplyClock): Promise<Completion> {
    const signal = clock.signal;
    // The SDK sends, retries and checks the status; the SSE body is read here (see node-fetch.ts).
    const response = await this.client!.chat.completions
      .create(
        {
          model: req.model,
          messages: req.messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
        },
        { signal },
      )
      .asResponse();
    let text = '';
    let usage: OpenAI.CompletionUsage | null = null;
    let first = true;
    const reader = new ChatStreamReader(response.headers, (chunk) => {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        clock.token();
        if (first) {
          first = false;
          req.onFirstToken?.();
        }
        text += delta;
        req.onDelta?.(delta);
      }
      if (chunk.usage) usage = chunk.usage;
    });
    try {
      // The client's fetch is nodeFetch, and a chat request's body is text: its response always has the Node stream.
      const body = nodeBody(response);
      if (!body) throw new OpenAIError('The provider response has no body to stream');
      await reader.readNode(body, signal);
    } catch (err) {
      if (!signal.aborted) throw err;
    }
    // A cancelled or timed-out reply is not a complete one, however much of it arrived.
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('Request aborted');
    const used = usage as OpenAI.CompletionUsage | null;
    return { text, promptTokens: used?.prompt_tokens ?? null, completionTokens: used?.completion_tokens ?? null };
  }

  async moderate(text: string, signal?: AbortSignal): Promise<CategoryScores> {
    if (!this.client) throw new ProviderNotConfigured();
    const result = await this.client.moderations.create({ model: this.config.moderationModel, input: text }, { signal });
    return moderationFromOpenAI(result as never);
  }
}

/**
 * A chat completion stream's events, as the SDK's Stream yields them: JSON chunks until
 * `[DONE]`, an `error` in the stream thrown as an APIError. Resolves at `[DONE]` (or the
 * end of the body); rejects when the body breaks off before either.
 */
class ChatStreamReader {
  private done = false;
  private readonly parser: EventSourceParser;

  constructor(
    private readonly headers: Headers,
    onChunk: (chunk: OpenAI.ChatCompletionChunk) => void,
  ) {
    // Events come out of feed() synchronously: a frame becomes a delta in the tick it arrives.
    this.parser = createParser({ onEvent: ({ event, data }) => {
      if (this.done) return;
      if (data.startsWith('[DONE]')) {
        this.done = true;
        return;
      }
      const parsed = JSON.parse(data);
      if (parsed?.error) throw new APIError(undefined, parsed.error, undefined, this.headers);
      if (event === 'error') throw new APIError(undefined, parsed, undefined, this.headers);
      onChunk(parsed);
    } });
  }

  /** Parses in the stream's own callbacks: a frame becomes a delta in the same tick it arrives. */
  readNode(body: IncomingMessage, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => {
        body.destroy();
        reject(err);
      };
      const onAbort = () => fail(signal!.reason ?? new Error('Request aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      body.setEncoding('utf8');
      body.on('data', (text: string) => {
        if (this.done) return;
        try {
          this.parser.feed(text);
        } catch (err) {
          return fail(err);
        }
        // The rest (if any) drains so the connection goes back to the pool.
        if (this.done) resolve();
      });
      body.once('end', () => {
        settle();
        try {
          if (!this.done) this.end();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
      body.once('error', (err) => {
        settle();
        reject(err);
      });
      body.once('close', () => {
        settle();
        if (!body.complete && !this.done) reject(new OpenAIError('The provider closed the stream before it ended'));
      });
    });
  }

  /** The body ended: a last event without its blank line still counts, as in the SDK. */
  private end(): void {
    this.parser.feed('\n\n');
  }
}
