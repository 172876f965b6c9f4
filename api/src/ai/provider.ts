/**
 * The model provider: the official `openai` SDK against any OpenAI-compatible endpoint.
 * The SDK retries transient failures (connection errors, 408, 409, 429, 5xx) before a
 * stream starts and enforces the timeout; an aborted signal cancels the request.
 */
import OpenAI from 'openai';
import type { AiConfig } from '../config/env';
import type { ChatMessage } from '../domain/prompt/build-prompt';
import { CategoryScores, moderationFromOpenAI } from '../domain/safety/moderation';

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
        })
      : null;
  }

  async stream(req: StreamRequest): Promise<Completion> {
    if (!this.client) throw new ProviderNotConfigured();
    const stream = await this.client.chat.completions.create(
      {
        model: req.model,
        messages: req.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
      },
      { signal: req.signal },
    );
    let text = '';
    let usage: OpenAI.CompletionUsage | null = null;
    let first = true;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        if (first) {
          first = false;
          req.onFirstToken?.();
        }
        text += delta;
        req.onDelta?.(delta);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    // The SDK ends an aborted stream quietly: a cancelled reply is not a complete one.
    if (req.signal?.aborted) throw req.signal.reason instanceof Error ? req.signal.reason : new Error('Request aborted');
    return { text, promptTokens: usage?.prompt_tokens ?? null, completionTokens: usage?.completion_tokens ?? null };
  }

  async moderate(text: string, signal?: AbortSignal): Promise<CategoryScores> {
    if (!this.client) throw new ProviderNotConfigured();
    const result = await this.client.moderations.create({ model: this.config.moderationModel, input: text }, { signal });
    return moderationFromOpenAI(result as never);
  }
}
