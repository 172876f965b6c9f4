/**
 * OpenAIProvider through the real `openai` SDK against the loopback fake: streaming,
 * retries, failures, cancellation, timeouts and moderation.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIConnectionError } from 'openai';
import { AiConfig, loadConfig } from '../../api/src/config/env';
import { OpenAIProvider, ProviderNotConfigured } from '../../api/src/ai/provider';
import { FakeOpenAI } from '../support/fake-openai';

let fake: FakeOpenAI;

function aiConfig(overrides: Record<string, string> = {}): AiConfig {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'x'.repeat(40),
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    AI_MAX_RETRIES: '2',
    AI_TIMEOUT_MS: '5000',
    ...overrides,
  }).ai;
}

const messages = [
  { role: 'system' as const, content: 'You are the group assistant.' },
  { role: 'user' as const, content: 'Where do we meet on Friday?', name: 'alice' },
];

beforeAll(async () => {
  fake = await FakeOpenAI.start();
});

afterEach(() => fake.reset());

afterAll(async () => {
  await fake.stop();
});

describe('OpenAIProvider streaming', () => {
  it('yields the deltas in order and resolves with the final text and token usage', async () => {
    fake.enqueue({ chunks: ['Meet ', 'at the ', 'station', '.'], usage: { prompt_tokens: 31, completion_tokens: 4 } });
    const provider = new OpenAIProvider(aiConfig());
    const deltas: string[] = [];
    let firstTokens = 0;

    const result = await provider.stream({ model: 'gpt-test-fast', messages, onDelta: (d) => deltas.push(d), onFirstToken: () => firstTokens++ });

    expect(deltas).toEqual(['Meet ', 'at the ', 'station', '.']);
    expect(firstTokens).toBe(1);
    expect(result).toEqual({ text: 'Meet at the station.', promptTokens: 31, completionTokens: 4 });
  });

  it('reads SSE written in awkward pieces: CRLF, frames split mid-JSON, comments, a last frame without its blank line', async () => {
    const chunk = (content: string) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    const stream = `: keep-alive\r\n\r\ndata: ${chunk('Tra')}\r\n\r\ndata: ${chunk('in ')}\n\ndata: ${chunk('at 7')}`;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // One byte short of each frame boundary, then the rest; the body ends without [DONE].
        const cuts = [5, 40, stream.indexOf('in ') + 1, stream.length - 3];
        let at = 0;
        const next = () => {
          const cut = cuts.shift();
          if (cut === undefined) return res.end(stream.slice(at));
          res.write(stream.slice(at, cut));
          at = cut;
          setTimeout(next, 5);
        };
        next();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const provider = new OpenAIProvider(aiConfig({ OPENAI_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` }));
      const deltas: string[] = [];
      const result = await provider.stream({ model: 'm', messages, onDelta: (d) => deltas.push(d) });
      expect(deltas).toEqual(['Tra', 'in ', 'at 7']);
      expect(result.text).toBe('Train at 7');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('sends the model, the messages and stream: true, and the fake records token times', async () => {
    const provider = new OpenAIProvider(aiConfig());

    const result = await provider.stream({ model: 'gpt-test-fast', messages });

    const [req] = fake.chatRequests();
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe('Bearer test');
    // A sized body, not chunked: some local OpenAI-compatible servers refuse chunked requests.
    expect(req.headers['transfer-encoding']).toBeUndefined();
    expect(Number(req.headers['content-length'])).toBeGreaterThan(0);
    expect(req.headers['accept-encoding']).toBe('identity');
    expect(req.body).toMatchObject({ model: 'gpt-test-fast', messages, stream: true, stream_options: { include_usage: true } });
    expect(result.text).toBe('Reply to: Where do we meet on Friday?');
    const promptChars = messages.reduce((n, m) => n + m.content.length, 0);
    expect(result.promptTokens).toBe(Math.ceil(promptChars / 4));
    expect(result.completionTokens).toBe(Math.ceil(result.text.length / 4));
    expect(req.firstTokenAt).toBeGreaterThanOrEqual(req.receivedAt);
    expect(req.lastTokenAt).toBeGreaterThanOrEqual(req.firstTokenAt!);
    expect(req.aborted).toBeUndefined();
  });

  it('retries a 500 through the SDK and then succeeds', async () => {
    fake.enqueue({ status: 500 }, { text: 'second time lucky' });
    const provider = new OpenAIProvider(aiConfig());

    const result = await provider.stream({ model: 'gpt-test-fast', messages });

    expect(result.text).toBe('second time lucky');
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('does not retry a 400', async () => {
    fake.enqueue({ status: 400 }, { text: 'never reached' });
    const provider = new OpenAIProvider(aiConfig());

    await expect(provider.stream({ model: 'gpt-test-fast', messages })).rejects.toMatchObject({ status: 400 });
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('rejects when the connection drops mid-stream, after the deltas that did arrive', async () => {
    fake.enqueue({ chunks: ['one ', 'two ', 'three'], failAfterChunks: 2 });
    const provider = new OpenAIProvider(aiConfig());
    const deltas: string[] = [];

    await expect(provider.stream({ model: 'gpt-test-fast', messages, onDelta: (d) => deltas.push(d) })).rejects.toThrow();
    expect(deltas).toEqual(['one ', 'two ']);
    // A stream that has started is not retried.
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('stops the stream and cancels the request when the signal aborts mid-stream', async () => {
    fake.enqueue({ text: 'a long answer that keeps going and going', chunkDelayMs: 20 });
    const provider = new OpenAIProvider(aiConfig());
    const controller = new AbortController();
    const deltas: string[] = [];

    const streaming = provider.stream({
      model: 'gpt-test-fast',
      messages,
      signal: controller.signal,
      onDelta: (d) => {
        deltas.push(d);
        if (deltas.length === 2) controller.abort();
      },
    });

    // The SDK ends an aborted stream without throwing, so the provider may resolve with the
    // partial text here; callers must check their signal. What matters is that it stops.
    await streaming.catch(() => undefined);
    await waitFor(() => fake.chatRequests()[0]?.aborted === true);
    expect(deltas).toHaveLength(2);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('cancels a request still waiting for the provider', async () => {
    fake.enqueue({ hangMs: 5000 });
    const provider = new OpenAIProvider(aiConfig());
    const controller = new AbortController();

    const streaming = provider.stream({ model: 'gpt-test-fast', messages, signal: controller.signal });
    await fake.waitForChatRequests(1);
    controller.abort();

    await expect(streaming).rejects.toThrow();
    await waitFor(() => fake.chatRequests()[0]?.aborted === true);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('rejects when the provider hangs beyond the timeout', async () => {
    fake.enqueue({ hangMs: 3000 });
    // AI_TIMEOUT_MS accepts 1000 ms at least; a shorter timeout keeps the test fast.
    const provider = new OpenAIProvider({ ...aiConfig({ AI_MAX_RETRIES: '0', AI_TIMEOUT_MS: '1000' }), timeoutMs: 150 });
    const started = performance.now();

    // An APIConnectionTimeoutError outside jest; inside jest's VM the SDK cannot recognise
    // Node's AbortError across realms and reports the plain APIConnectionError it extends.
    await expect(provider.stream({ model: 'gpt-test-fast', messages })).rejects.toBeInstanceOf(APIConnectionError);
    expect(performance.now() - started).toBeLessThan(1000);
    await waitFor(() => fake.chatRequests()[0]?.aborted === true);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('rejects with ProviderNotConfigured when no base URL or key is set, without calling anyone', async () => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }).ai;
    const provider = new OpenAIProvider(config);

    expect(provider.configured).toBe(false);
    await expect(provider.stream({ model: 'gpt-test-fast', messages })).rejects.toBeInstanceOf(ProviderNotConfigured);
    await expect(provider.moderate('hello')).rejects.toBeInstanceOf(ProviderNotConfigured);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('OpenAIProvider moderation', () => {
  it('maps the endpoint category scores onto the local categories', async () => {
    const threat: Record<string, number> = { violence: 0.4, 'violence/graphic': 0.2, 'harassment/threatening': 0.91, 'self-harm/intent': 0.3 };
    fake.onModeration((input) => ({ flagged: input.includes('threat'), category_scores: input.includes('threat') ? threat : {} }));
    const provider = new OpenAIProvider(aiConfig({ OPENAI_MODERATION: 'true', OPENAI_MODERATION_MODEL: 'omni-test' }));

    const scores = await provider.moderate('a threat');

    expect(scores).toEqual({
      harassment: 0.91,
      hate: 0.01,
      'self-harm': 0.3,
      sexual: 0.01,
      'sexual/minors': 0.01,
      violence: 0.4,
      illicit: 0.01,
    });
    const [req] = fake.moderationRequests();
    expect(req.body).toEqual({ model: 'omni-test', input: 'a threat' });
  });

  it('scores nothing as harmful by default', async () => {
    const provider = new OpenAIProvider(aiConfig());

    const scores = await provider.moderate('hello everyone');

    expect(Object.values(scores).every((s) => s === 0.01)).toBe(true);
  });

  it('rejects when the moderation endpoint fails', async () => {
    fake.onModeration(() => 'error');
    const provider = new OpenAIProvider(aiConfig({ AI_MAX_RETRIES: '0' }));

    await expect(provider.moderate('hello')).rejects.toMatchObject({ status: 500 });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition did not hold in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
