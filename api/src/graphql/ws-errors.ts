/**
 * Error handling of the WebSocket transport. A bad frame (over maxPayload, invalid UTF-8,
 * unmasked, a reserved opcode or bit, a fragmented control frame, a bad close code) makes
 * `ws` close that socket with the RFC 6455 code itself and then emit 'error' on it; with
 * no listener that 'error' would end the process. It is the client's mistake: logged
 * quietly, and nothing else is touched.
 */
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';

export function handleSocketErrors(socket: WebSocket, log: Logger): void {
  socket.on('error', (err: Error & { code?: string }) => {
    // ws has already closed the socket (1002, 1007, 1009, ...) or is tearing it down.
    log.debug({ code: err.code, message: err.message }, 'WebSocket closed after a protocol error');
  });
}

/** ws throws on a close reason over 123 bytes; graphql-ws puts the client's ids in some ("Subscriber for <id> already exists"). */
export function closeReason(reason?: string): string | undefined {
  if (reason === undefined || Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/**
 * The server re-emits its HTTP server's errors (a port in use, ...): they are reported
 * where the HTTP server listens, so here they only must not be unhandled.
 */
export function handleServerErrors(wss: WebSocketServer, log: Logger): void {
  wss.on('error', (err) => log.debug({ message: err.message }, 'WebSocket server error (reported by the HTTP server)'));
  // Bad upgrade requests (wrong method, key, version, path) are answered 4xx by ws itself.
}
