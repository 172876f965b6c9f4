/**
 * What the raw baselines (raw-server.ts, raw-ai-server.ts) share: a child process with
 * plain `ws` sockets registered per group (`/?g=<n>`), driven by its parent over IPC, or
 * over HTTP on the same port when given a `request` listener. It reports
 * `{ t: 'ready', port }` once listening, and on `{ t: 'stop' }` closes its sockets, runs
 * `close` and exits.
 */
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

export interface RawSockets {
  /** Sends one frame, as is, to every socket of the group. */
  send(group: number, frame: string): void;
}

export function serveRawSockets<C extends { t: string }>(onCommand: (cmd: C) => void, close: () => Promise<unknown>, request?: http.RequestListener): RawSockets {
  const groups = new Map<number, Set<WebSocket>>();
  const server = http.createServer(request);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    const g = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('g'));
    if (!groups.has(g)) groups.set(g, new Set());
    groups.get(g)!.add(socket);
    socket.on('close', () => groups.get(g)!.delete(socket));
  });
  process.on('message', (cmd: C | { t: 'stop' }) => {
    if (cmd.t !== 'stop') return onCommand(cmd as C);
    for (const c of wss.clients) c.terminate();
    server.close();
    void close().then(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => process.send!({ t: 'ready', port: (server.address() as { port: number }).port }));
  return {
    send(group, frame) {
      for (const s of groups.get(group) ?? []) s.send(frame);
    },
  };
}

/**
 * A request listener for one JSON `POST path`: `handle` gets the parsed body and answers
 * with a status and a JSON value (after which it may go on working). Anything else gets a
 * 404, a body that is not JSON a 400.
 */
export function jsonPost<T>(path: string, handle: (body: T, answer: (status: number, body: unknown) => void) => void): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method !== 'POST' || req.url !== path) return answer(404, { error: `POST ${path} only` });
      let body: T;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
      } catch {
        return answer(400, { error: 'not JSON' });
      }
      handle(body, answer);
    });
  };
}

/** Logs a failed step and makes the process exit non-zero in the end; the bench then fails. */
export const failed = (what: string) => (err: unknown) => {
  console.error(`raw baseline: ${what} failed`, err);
  process.exitCode = 1;
};

/** Runs the baseline's `main`, exiting at once if it cannot start. */
export function runRawProcess(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
