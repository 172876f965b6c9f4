/**
 * graphql-ws over `ws`, on the HTTP server's port. Authentication happens in
 * `connection_init` (graphql-ws closes sockets that subscribe before the ack or send no
 * init in time). Subscription events are executed and serialized once per event and
 * query shape, then the same JSON goes to every local subscriber: a group of 20 costs
 * one execution and one JSON.stringify per event, not twenty.
 */
import type { IncomingMessage } from 'node:http';
import {
  DocumentNode,
  execute,
  ExecutionArgs,
  ExecutionResult,
  getOperationAST,
  GraphQLError,
  GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  visit,
} from 'graphql';
import { createSourceEventStream } from 'graphql/execution/subscribe';
import { CloseCode, makeServer } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Context, Services } from '../context';
import { DomainError, toFormattedErrors } from '../errors';
import { createLoaders } from '../loaders';
import type { UserEntity } from '../users/user.entity';
import type { TokenVerifier } from '../auth/jwt';
import { assertCost, depthRule } from './limits';

interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  user?: UserEntity;
  /** Pre-serialized payloads waiting for their frame, by marker number. */
  raw: Map<number, string>;
}

interface SharedResult {
  result: ExecutionResult;
  json: string;
}

/** Fields whose value depends on who is looking: queries that select them are not shared. */
const VIEWER_FIELDS = new Set(['myMembership', 'me']);
const MARKER_KEY = '__rt';
const MARKER_TAIL = /\{"__rt":(\d+)\}\}$/;

export interface WsServerOptions {
  schema: GraphQLSchema;
  services: Services;
  verify: TokenVerifier;
}

export function attachGraphqlWs(wss: WebSocketServer, { schema, services, verify }: WsServerOptions) {
  const { config, log, metrics } = services;
  const perEvent = new WeakMap<object, Map<string, Promise<SharedResult>>>();
  const shared = new WeakMap<ExecutionResult, SharedResult>();
  // Apollo applies the introspection switch over HTTP; queries over graphql-ws need it too.
  const rules = [...specifiedRules, depthRule(config.graphql.maxDepth), ...(config.graphql.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  let markers = 0;

  const format = (errors: readonly GraphQLError[]) => toFormattedErrors(errors, (err) => log.error({ err }, 'internal error in a subscription'));

  /** Runs one event through the operation once per (event, query shape) and keeps its JSON. */
  const runShared = (args: ExecutionArgs, key: string, event: object): Promise<SharedResult> => {
    let byKey = perEvent.get(event);
    if (!byKey) perEvent.set(event, (byKey = new Map()));
    let entry = byKey.get(key);
    if (!entry) {
      metrics.subscriptionExecutions.inc();
      // Fresh loaders per event: the subscription's own would cache members and read positions forever.
      const contextValue: Context = { ...(args.contextValue as Context), loaders: createLoaders(services.db, (args.contextValue as Context).user?.id ?? null) };
      entry = Promise.resolve(execute({ ...args, contextValue, rootValue: event })).then((res) => {
        const result: ExecutionResult = res.errors ? { data: res.data, errors: format(res.errors) as unknown as GraphQLError[] } : res;
        const s = { result, json: JSON.stringify(result) };
        shared.set(result, s);
        return s;
      });
      byKey.set(key, entry);
    }
    return entry;
  };

  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    schema,
    connectionInitWaitTimeout: config.subscription.connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
      if (typeof raw !== 'string' || raw.length === 0) return false;
      try {
        const identity = await verify(raw.replace(/^Bearer\s+/i, ''));
        ctx.extra.user = await services.users.upsertFromIdentity(identity);
        return true;
      } catch (err) {
        if (!(err instanceof DomainError)) log.error({ err }, 'websocket authentication failed');
        return false;
      }
    },
    context: (ctx): Context => ({
      user: ctx.extra.user ?? null,
      services,
      loaders: createLoaders(services.db, ctx.extra.user?.id ?? null),
    }),
    onSubscribe: (ctx, _id, payload) => {
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch (err) {
        return [new DomainError('BAD_USER_INPUT', (err as Error).message)];
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors.map((e) => new DomainError('BAD_USER_INPUT', e.message));
      try {
        assertCost(schema, document, payload.variables ?? undefined, payload.operationName, config.graphql.maxCost);
      } catch (err) {
        return [err as DomainError];
      }
      return {
        schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: {
          user: ctx.extra.user ?? null,
          services,
          loaders: createLoaders(services.db, ctx.extra.user?.id ?? null),
        } satisfies Context,
      };
    },
    subscribe: async (args) => {
      const source = await createSourceEventStream(args);
      if (!isAsyncIterator(source)) return source as ExecutionResult;
      const key = sharingKey(args, (args.contextValue as Context).user?.id ?? '');
      return mapIterator(source, async (event) => (await runShared(args, key, event as object)).result) as AsyncIterableIterator<ExecutionResult<Record<string, unknown>>>;
    },
    onNext: (ctx, _id, _payload, _args, result) => {
      const s = shared.get(result as ExecutionResult);
      if (!s) {
        // A subscription refused when it starts (NOT_FOUND, BAD_USER_INPUT): one masked result.
        // Formatted here, not in onOperation: graphql-ws calls toJSON() on errors it formats itself.
        const r = result as ExecutionResult;
        return r.errors ? { data: r.data, errors: format(r.errors) } : undefined;
      }
      const n = ++markers;
      ctx.extra.raw.set(n, s.json);
      return { [MARKER_KEY]: n } as unknown as ExecutionResult;
    },
    onError: (_ctx, _id, _payload, errors) => format(errors) as unknown as GraphQLError[],
  });

  wss.options.handleProtocols = (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false);
  wss.on('connection', (socket, request) => {
    metrics.wsConnections.inc();
    const extra: Extra = { socket, request, raw: new Map() };
    const keepAlive = setInterval(() => {
      if (socket.readyState === socket.OPEN) socket.ping();
    }, 12_000);
    keepAlive.unref();
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            // The marker ends the frame; only the tail is searched, however long the client's id.
            const tail = data.slice(-40);
            const m = MARKER_TAIL.exec(tail);
            if (m) {
              const n = Number(m[1]);
              const json = extra.raw.get(n)!;
              extra.raw.delete(n);
              data = data.slice(0, data.length - tail.length + m.index) + json + '}';
            }
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', async (event) => {
            try {
              await cb(String(event));
            } catch (err) {
              log.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      metrics.wsConnections.dec();
      void closed(code, String(reason));
    });
  });

  return {
    /** Ends all subscriptions (clients see `complete`) and closes every socket. */
    async dispose(): Promise<void> {
      services.hub.closeAll();
      await new Promise((r) => setTimeout(r, 50));
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
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

/**
 * Subscribers whose queries would produce identical output for the same event share one
 * execution: same text and operation, same values for every variable used below the
 * root field (root arguments such as groupId and afterSeq only choose the stream), and
 * the same viewer when a viewer-dependent field is selected.
 */
function sharingKey(args: ExecutionArgs, viewerId: string): string {
  const op = getOperationAST(args.document, args.operationName);
  const used = new Set<string>();
  let viewerDependent = false;
  const root = op?.selectionSet.selections[0];
  const visitor = {
    Variable: (v: { name: { value: string } }) => void used.add(v.name.value),
    Field: (f: { name: { value: string } }) => void (VIEWER_FIELDS.has(f.name.value) && (viewerDependent = true)),
  };
  if (root && root.kind === Kind.FIELD && root.selectionSet) visit(root.selectionSet, visitor);
  for (const def of args.document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) visit(def, visitor);
  const vars = args.variableValues ?? {};
  const relevant = [...used].sort().map((n) => [n, vars[n]]);
  return JSON.stringify([args.document.loc?.source.body ?? '', args.operationName ?? null, relevant, viewerDependent ? viewerId : null]);
}
