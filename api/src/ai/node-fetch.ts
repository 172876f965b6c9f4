/**
 * The `fetch` the OpenAI client is given: `node:http` with keep-alive instead of undici.
 * A streamed reply arrives as hundreds of tiny SSE frames; through undici each one also
 * crosses a web ReadableStream and several async iterators, which cost the service more
 * CPU per reply than everything else it does for a token. Here the SSE reader takes the
 * body as the plain Node stream (`nodeBody`), and parses it in the 'data' callback.
 *
 * The SDK still builds the request, authenticates, retries, times out and turns error
 * statuses into its errors: for it this is an ordinary `fetch`. Bodies it reads itself
 * (errors, moderation results) come through a web stream that only starts reading when
 * pulled, so the Node stream has one reader either way.
 */
import http, { IncomingMessage } from 'node:http';
import https from 'node:https';

const bodies = new WeakMap<Response, IncomingMessage>();
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
/** undici's default bodyTimeout: the longest silence within a response body. */
const BODY_IDLE_TIMEOUT_MS = 300_000;

/** The Node stream behind a response of `nodeFetch`, unread; undefined for any other response. */
export function nodeBody(response: Response): IncomingMessage | undefined {
  return bodies.get(response);
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  // The SDK tells a timeout or cancellation from a connection error by this name.
  return Object.assign(new Error(reason instanceof Error ? reason.message : 'This operation was aborted', { cause: reason }), { name: 'AbortError' });
}

function headerRecord(init: ConstructorParameters<typeof Headers>[0]): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, key) => (out[key] = value));
  return out;
}

/** A web stream over `res` that reads nothing until someone reads it. */
function lazyWebBody(res: IncomingMessage): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= res[Symbol.asyncIterator]();
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      cancel() {
        res.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A `fetch` for the OpenAI client. Bodies other than text or bytes go to the global fetch. */
export function createNodeFetch(): typeof fetch {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return (input, init = {}) => {
    const body = init.body;
    if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array) && !(body instanceof ArrayBuffer)) return fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const secure = url.protocol === 'https:';
      const payload = body == null ? undefined : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body instanceof ArrayBuffer ? new Uint8Array(body) : body);
      const headers = headerRecord(init.headers);
      // As undici does: a known length, not chunked encoding, which some local servers refuse.
      if (payload) headers['content-length'] = String(payload.byteLength);
      // Bodies are read as they are (undici would decompress): ask for them uncompressed.
      headers['accept-encoding'] ??= 'identity';
      const req = (secure ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http });
      const onAbort = () => req.destroy(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      // Also after the response: a connection cut mid-body errors the request too (the body's reader sees it).
      req.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      req.once('response', (res) => {
        // Until the body is read to its end, aborting still cancels it.
        res.once('close', () => signal?.removeEventListener('abort', onAbort));
        // Whoever reads the body sees its errors; unread, they must not crash the process.
        res.on('error', () => undefined);
        // A body that stalls fails as it did under undici (its bodyTimeout), not never.
        res.setTimeout(BODY_IDLE_TIMEOUT_MS, () => res.destroy(new Error(`The provider sent nothing for ${BODY_IDLE_TIMEOUT_MS / 1000} s`)));
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const status = res.statusCode ?? 500;
        const nullBody = NULL_BODY_STATUS.has(status) || init.method === 'HEAD';
        if (nullBody) res.resume();
        const response = new Response(nullBody ? null : lazyWebBody(res), { status, statusText: res.statusMessage, headers });
        if (!nullBody) bodies.set(response, res);
        resolve(response);
      });
      req.end(payload);
    });
  };
}
