/**
 * Keeps a graphql-ws socket exactly as authorized as an HTTP request with its token.
 *
 * The socket keeps the token it authenticated with, not a user row. Each operation
 * verifies the token again (the verifier's cache makes that a lookup), so nothing runs
 * after `exp`, and reads the user as an HTTP request does (graphql/viewer.ts): the token's
 * claims are upserted and the row read, so a suspension, a new profile, the parental switch,
 * plan and region count from the next operation on. A lone sendMessage finds its author by
 * those claims in its own statement, as over HTTP. "Current" is what the token says, as for
 * HTTP (docs/product.md §1): newer claims reach a socket when its client reconnects with a newer
 * token, at the latest at `exp`, which JWT_MAX_TTL_SECONDS bounds.
 *
 * A socket is closed with 4403 (graphql-ws's Forbidden, which its client retries with fresh
 * connectionParams) when its token expires ("Token expired") and when staff suspend its
 * user, in every process through the bus ("Account suspended"). A suspended user may
 * connect again and read; every write is refused with SUSPENDED. A notice lost while Redis
 * reconnects leaves such a socket open, but its writes are refused all the same.
 */
import type { WebSocket } from 'ws';
import type { DocumentNode } from 'graphql';
import { CloseCode } from 'graphql-ws';
import type { Context, Services } from '../context';
import { expiryMs, TokenVerifier } from '../auth/jwt';
import { unauthenticated } from '../errors';
import { createLoaders } from '../loaders';
import { findsOwnAuthor, setViewer } from './viewer';

/** The close codes and reasons a client sees (README, "Live events"). */
export const SOCKET_CLOSE = {
  tokenExpired: { code: CloseCode.Forbidden, reason: 'Token expired' },
  suspended: { code: CloseCode.Forbidden, reason: 'Account suspended' },
} as const;

export interface WsSession {
  token: string;
  /** The token's `exp`, in ms. */
  expiresAt: number;
  /** Whose socket it is, as read at connection_init; never what they may do now (each operation reads its own row). */
  userId: string;
}

/** The authenticated sockets of one process, by user, and the context of each of their operations. */
export class WsSessions {
  private readonly byUser = new Map<string, Set<WebSocket>>();
  private readonly stopListening: Promise<() => void>;

  constructor(
    private readonly services: Services,
    private readonly verify: TokenVerifier,
  ) {
    this.stopListening = services.bus.onControl((message) => {
      if (message.type === 'user-suspended') this.closeUser(message.userId, SOCKET_CLOSE.suspended);
    });
  }

  /** connection_init: verifies the token, reads the user and arms the close at `exp`. Throws (UNAUTHENTICATED) to refuse. */
  async open(socket: WebSocket, token: string): Promise<WsSession> {
    const identity = await this.verify(token);
    const user = await this.services.users.upsertFromIdentity(identity);
    // The verifier refuses tokens without exp.
    const session: WsSession = { token, expiresAt: expiryMs(token)!, userId: user.id };
    // A socket that closed while it was authenticated has nothing left to watch.
    if (socket.readyState === socket.OPEN) this.track(socket, session);
    return session;
  }

  /** The context of one operation, as http.ts and viewer.ts build it for a request with the same token. */
  async context(session: WsSession, document: DocumentNode, operationName: string | null | undefined): Promise<Context> {
    // Before the socket's timer fires, too.
    if (Date.now() >= session.expiresAt) throw unauthenticated('Token expired');
    const identity = await this.verify(session.token);
    const ctx: Context = { user: null, identity, services: this.services, loaders: createLoaders(this.services.db, null) };
    if (!findsOwnAuthor(document, operationName)) setViewer(ctx, await this.services.users.upsertFromIdentity(identity));
    return ctx;
  }

  /** Open sockets of a user in this process (for tests and metrics). */
  socketsOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  dispose(): void {
    void this.stopListening.then((stop) => stop());
  }

  private track(socket: WebSocket, session: WsSession): void {
    const { userId } = session;
    let sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, (sockets = new Set()));
    sockets.add(socket);
    // JWT_MAX_TTL_SECONDS (at most 7 days) keeps the delay within setTimeout's range.
    const timer = setTimeout(() => socket.close(SOCKET_CLOSE.tokenExpired.code, SOCKET_CLOSE.tokenExpired.reason), Math.max(0, session.expiresAt - Date.now()));
    timer.unref();
    const mine = sockets;
    socket.once('close', () => {
      clearTimeout(timer);
      mine.delete(socket);
      if (mine.size === 0 && this.byUser.get(userId) === mine) this.byUser.delete(userId);
    });
  }

  private closeUser(userId: string, { code, reason }: { code: number; reason: string }): void {
    for (const socket of this.byUser.get(userId) ?? []) socket.close(code, reason);
  }
}
