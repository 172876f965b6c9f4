/**
 * graphql-ws over `ws`, on the HTTP server's port. Authentication happens in
 * `connection_init` (graphql-ws closes sockets that subscribe before the ack or send no
 * init in time). Subscription events are executed and serialized once per event and
 * query shape, then the same bytes go to every local subscriber: a group of 20 costs one
 * execution and one JSON.stringify per event, not twenty. graphql-ws runs each
 * subscription's protocol (subscribe, complete, errors, the end of a stream); the events
 * of a group stream are written by a FrameSink as the feed pushes them.
 */
import {
  execute,
  ExecutionArgs,
  DocumentNode,
  ExecutionResult,
  getOperationAST,
  GraphQLError,
  GraphQLSchema,
  Kind,
  visit,
} from 'graphql';
import { createSourceEventStream } from 'graphql/execution/subscribe';
import { CloseCode, makeServer } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Context, Services } from '../context';
import { DomainError, toFormattedErrors } from '../errors';
import { AsyncQueue } from '../events/async-queue';
import { createLoaders } from '../loaders';
import type { TokenVerifier } from '../auth/jwt';
import { FrameSink, SharedResult as SharedBytes } from './frame-sink';
import { DocumentCache } from './document-cache';
import { assertCost, clientFieldCosts } from './limits';
import { costBudget, costRate, executeInTurn, inFlightLimiter } from './in-flight';
import { closeReason, handleServerErrors, handleSocketErrors } from './ws-errors';
import { WsLimits } from './ws-limits';
import { WsSession, WsSessions } from './ws-session';

/**
 * What graphql-ws keeps for a socket, for as long as it is open: the least that serves
 * (no upgrade request, no user row; each operation reads its own, ws-session.ts).
 */
interface Extra {
  socket: WebSocket;
  session?: WsSession;
}

interface SharedResult extends SharedBytes {
  result: ExecutionResult;
}

/** WebSocket close code 1012 (RFC 6455 registry): the service is restarting; reconnect. */
const SERVICE_RESTART = 1012;

/** How often every socket is pinged, so that proxies keep idle ones open and dead peers are found. */
const KEEP_ALIVE_MS = 12_000;

/** Fields whose value depends on who is looking: queries that select them are not shared. */
const VIEWER_FIELDS = new Set(['myMembership', 'me']);

export interface WsServerOptions {
  schema: GraphQLSchema;
  services: Services;
  verify: TokenVerifier;
}

export function attachGraphqlWs(wss: WebSocketServer, { schema, services, verify }: WsServerOptions) {
  const { config, log, metrics } = services;
  const perEvent = new WeakMap<object, Map<string, SharedResult | Promise<SharedResult>>>();
  /** The socket and graphql-ws id of each subscription, by its context value. */
  const targets = new WeakMap<object, { socket: WebSocket; id: string }>();
  const limits = new WsLimits(config.subscription, log);
  // Apollo applies the limits and the introspection switch over HTTP; operations over graphql-ws need them too.
  const check = { limits: config.graphql, introspection: config.graphql.introspection, maxCost: config.graphql.maxCost, costs: clientFieldCosts(config) };
  const turns = inFlightLimiter(services);
  const budget = costBudget(config);
  const rate = costRate(config);
  const sessions = new WsSessions(services, verify);
  const documents = new DocumentCache(schema, check);

  const format = (errors: readonly GraphQLError[]) => toFormattedErrors(errors, (err) => log.error({ err }, 'internal error in a subscription'));

  /** Results whose errors are masked already (onNext must not format them again). */
  const formatted = new WeakSet<ExecutionResult>();
  const serialize = (res: ExecutionResult): SharedResult => {
    const result: ExecutionResult = res.errors ? { data: res.data, errors: format(res.errors) as unknown as GraphQLError[] } : res;
    formatted.add(result);
    return { result, bytes: Buffer.from(JSON.stringify(result)) };
  };

  /**
   * Runs one event through the operation once per (event, query shape) and keeps its
   * JSON. Synchronous when every resolver of the selection is (the usual case).
   */
  const runShared = (args: ExecutionArgs, key: string, event: object): SharedResult | Promise<SharedResult> => {
    let byKey = perEvent.get(event);
    if (!byKey) perEvent.set(event, (byKey = new Map()));
    let entry = byKey.get(key);
    if (!entry) {
      metrics.subscriptionExecutions.inc();
      // Fresh loaders per event: the subscription's own would cache members and read positions forever.
      const contextValue: Context = { ...(args.contextValue as Context), loaders: createLoaders(services.db, (args.contextValue as Context).user?.id ?? null) };
      const res = execute({ ...args, contextValue, rootValue: event });
      entry = res instanceof Promise ? res.then(serialize) : serialize(res);
      byKey.set(key, entry);
    }
    return entry;
  };

  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    schema,
    connectionInitWaitTimeout: config.subscription.connectionInitTimeoutMs,
    // Queries and mutations take one of their user's turns, shared with HTTP, its cost per second and room in
    // the process's cost budget (in-flight.ts); the cost is the one onSubscribe computed (cached).
    execute: (args) =>
      executeInTurn({ turns, rate, budget }, (args.contextValue as Context).identity?.subject, () => assertCost(schema, args.document, args.variableValues, args.operationName, check).cost, () => execute(args)),
    onConnect: async (ctx) => {
      const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
      if (typeof raw !== 'string' || raw.length === 0) return false;
      try {
        ctx.extra.session = await sessions.open(ctx.extra.socket, raw.replace(/^Bearer\s+/i, ''));
        // The session holds the token now; graphql-ws would keep the init payload as long as the socket.
        (ctx as { connectionParams?: unknown }).connectionParams = undefined;
        return true;
      } catch (err) {
        if (!(err instanceof DomainError)) log.error({ err }, 'websocket authentication failed');
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      // The same document limits, cost and messages as over HTTP (limits.ts), parsed once per query text.
      const valid = documents.get(payload.query);
      if (Array.isArray(valid)) return valid;
      const { document } = valid;
      // graphql-ws keeps the subscribe message for the life of the operation: it keeps the shared text, not a copy.
      (payload as { query: string }).query = valid.query;
      try {
        assertCost(schema, document, payload.variables, payload.operationName, check);
      } catch (err) {
        return [err as DomainError];
      }
      // Counted against the socket's user as of connection_init (a lone sendMessage's context has no user row),
      // before the user is read: a subscription over the limit costs no database round trip.
      const refused = limits.admit(ctx.extra.socket, ctx, ctx.extra.session?.userId ?? null, id, getOperationAST(document, payload.operationName)?.operation === 'subscription');
      if (refused) return [refused];
      // The operation's only context, authorized as an HTTP request with the socket's token (ws-session.ts).
      let contextValue: Context;
      try {
        contextValue = await sessions.context(ctx.extra.session!, document, payload.operationName);
      } catch (err) {
        if (err instanceof DomainError) return [err];
        log.error({ err }, 'authorizing a graphql-ws operation failed');
        return [new DomainError('INTERNAL', 'Internal server error')];
      }
      targets.set(contextValue, { socket: ctx.extra.socket, id });
      return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
    },
    subscribe: async (args) => {
      const source = await createSourceEventStream(args);
      if (!isAsyncIterator(source)) return source as ExecutionResult;
      const key = sharingKey(args, (args.contextValue as Context).user?.id ?? '');
      const target = targets.get(args.contextValue as object);
      if (target && source instanceof AsyncQueue) {
        // Events go out through the sink as they are pushed; graphql-ws is left the end of
        // the stream (complete, or the error that ended it).
        const fail = (err: unknown) => {
          log.error({ err }, 'writing a subscription event failed');
          target.socket.close(CloseCode.InternalServerError, 'Internal server error');
        };
        source.attach(new FrameSink<object>(target.socket, target.id, (event) => runShared(args, key, event), fail, limits.ledgerOf(target.socket)));
        return source as AsyncIterableIterator<ExecutionResult<Record<string, unknown>>>;
      }
      return mapIterator(source, async (event) => (await runShared(args, key, event as object)).result) as AsyncIterableIterator<ExecutionResult<Record<string, unknown>>>;
    },
    onNext: (_ctx, _id, _payload, _args, result) => {
      const r = result as ExecutionResult;
      if (formatted.has(r) || !r.errors) return undefined;
      // A subscription refused when it starts (NOT_FOUND, BAD_USER_INPUT): one masked result.
      // Formatted here, not in onOperation: graphql-ws calls toJSON() on errors it formats itself.
      return { data: r.data, errors: format(r.errors) };
    },
    onError: (_ctx, _id, _payload, errors) => format(errors) as unknown as GraphQLError[],
  });

  wss.options.handleProtocols = (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false);
  handleServerErrors(wss, log);
  // One timer for every socket, not one each.
  const keepAlive = setInterval(() => {
    for (const socket of wss.clients) if (socket.readyState === socket.OPEN) socket.ping();
  }, KEEP_ALIVE_MS);
  keepAlive.unref();
  wss.on('connection', (socket) => {
    handleSocketErrors(socket, log);
    const ledger = limits.open(socket);
    metrics.wsConnections.inc();
    const extra: Extra = { socket };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => ledger.send(data),
        close: (code, reason) => socket.close(code, closeReason(reason)),
        // Not an async function: graphql-ws's promise for a subscribe settles only when the
        // subscription ends, and a suspended handler would hold the frame's Buffer (and the
        // read chunk behind it) as long as that.
        onMessage: (cb) =>
          socket.on('message', (event) => {
            let handled: Promise<void>;
            try {
              handled = cb(String(event));
            } catch (err) {
              handled = Promise.reject(err);
            }
            handled.catch((err) => {
              log.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      limits.closed(socket);
      metrics.wsConnections.dec();
      void closed(code, String(reason));
    });
  });

  return {
    /**
     * Closes every socket with 1012 (service restart), then ends the feeds behind them.
     * No `complete` goes out first: a client that saw one would take the subscription as
     * finished, where 1012 tells it to reconnect and resubscribe with `afterSeq` (README).
     */
    async dispose(): Promise<void> {
      clearInterval(keepAlive);
      sessions.dispose();
      for (const client of wss.clients) client.close(SERVICE_RESTART, 'Service restart');
      services.hub.closeAll();
    },
  };
}

function isAsyncIterator(x: unknown): x is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Maps a source iterator without an async generator, so that `return()` reaches the
 * source at once even while a `next()` is pending (otherwise an idle subscription
 * would never be cleaned up).
 */
function mapIterator<T, U>(source: AsyncIterator<T>, fn: (t: T) => Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const r = await source.next();
      return r.done ? { value: undefined, done: true } : { value: await fn(r.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(err) {
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** What in a document decides whether two subscribers' results can be shared (sharingKey). */
interface SharingShape {
  /** Unique per document object: with documents cached by text (document-cache.ts), per query text. */
  id: number;
  /** Variables used below the root field, sorted. */
  used: string[];
  viewerDependent: boolean;
}

const sharingShapes = new WeakMap<DocumentNode, Map<string | null, SharingShape>>();
let nextDocumentId = 0;

function sharingShape(document: DocumentNode, operationName: string | null | undefined): SharingShape {
  let byOperation = sharingShapes.get(document);
  if (!byOperation) sharingShapes.set(document, (byOperation = new Map()));
  const known = byOperation.get(operationName ?? null);
  if (known) return known;
  const op = getOperationAST(document, operationName);
  const used = new Set<string>();
  let viewerDependent = false;
  const root = op?.selectionSet.selections[0];
  const visitor = {
    Variable: (v: { name: { value: string } }) => void used.add(v.name.value),
    Field: (f: { name: { value: string } }) => void (VIEWER_FIELDS.has(f.name.value) && (viewerDependent = true)),
  };
  if (root && root.kind === Kind.FIELD && root.selectionSet) visit(root.selectionSet, visitor);
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) visit(def, visitor);
  const shape = { id: nextDocumentId++, used: [...used].sort(), viewerDependent };
  byOperation.set(operationName ?? null, shape);
  return shape;
}

/**
 * Subscribers whose queries would produce identical output for the same event share one
 * execution: same document and operation, same values for every variable used below the
 * root field (root arguments such as groupId and afterSeq only choose the stream), and
 * the same viewer when a viewer-dependent field is selected. The key is short: every
 * subscription keeps its own.
 */
function sharingKey(args: ExecutionArgs, viewerId: string): string {
  const shape = sharingShape(args.document, args.operationName);
  const vars = args.variableValues ?? {};
  if (shape.used.length === 0 && !shape.viewerDependent) return String(shape.id);
  return JSON.stringify([shape.id, shape.used.map((n) => vars[n]), shape.viewerDependent ? viewerId : null]);
}
