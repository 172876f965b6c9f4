/**
 * The HTTP edge: GraphQL via Apollo Server's HTTP API (the client API at /graphql, the
 * staff API at /admin/graphql), the staff console at /admin, the GraphQL explorer for
 * browsers at /graphql (when enabled), health, readiness and metrics on a plain Node
 * server (the WebSocket server shares its port).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import type { Context, Services } from '../context';
import { DomainError, unauthenticated } from '../errors';
import { createLoaders } from '../loaders';
import type { Identity, TokenVerifier } from '../auth/jwt';
import { clientAddress } from '../admin/client-address';
import { inFlightLimiter, userKey } from './in-flight';
import type { AdminEndpoint } from '../admin/admin-server';
import { createConsoleHandler, isConsolePath } from '../admin/console-static';
import { operationLabelOf } from '../ops/operation-label';
import { createMetricsHandler } from '../ops/metrics-endpoint';
import { createExplorer, EXPLORER_PATH, prefersHtml } from './explorer';

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      // Past the limit the rest is read and dropped rather than the socket destroyed, so
      // the client gets the 413 (the response closes the connection).
      if (size > limit) return;
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new BodyTooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const errorBody = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });

export function createHttpHandler(apollo: ApolloServer<Context>, services: Services, verify: TokenVerifier, admin: AdminEndpoint) {
  const { config, db, metrics, log } = services;
  const serveConsole = createConsoleHandler(config.staff.consoleDir);
  const serveMetrics = config.metrics.port === null ? createMetricsHandler(metrics, config.metrics.token) : null;
  const explorer = config.graphql.explorer ? createExplorer(config) : null;

  const inFlight = inFlightLimiter(services);
  const addressOf = clientAddress(config.trustProxy);

  /** The token is checked here (a bad one is the client's mistake: 401); the user is read once the operation is known (see viewer.ts). */
  async function authenticate(req: IncomingMessage): Promise<Identity | null> {
    const header = req.headers.authorization;
    if (!header) return null;
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) throw unauthenticated('Authorization must be "Bearer <token>"');
    return verify(m[1]);
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      switch (url.pathname) {
        case '/healthz':
          return sendJson(res, 200, { status: 'ok' });
        case '/readyz': {
          const { ready, status } = await services.readiness.check();
          return sendJson(res, ready ? 200 : 503, { status });
        }
        case '/metrics':
          // With METRICS_PORT they have a listener of their own and are not served here.
          if (!serveMetrics) return sendJson(res, 404, { error: 'not found' });
          return await serveMetrics(req, res);
        case '/graphql':
          // A browser opening the URL; every other GET, POST and upgrade is GraphQL as ever.
          if (explorer && req.method === 'GET' && prefersHtml(req.headers.accept)) return await explorer.page(req, res);
          break;
        case '/admin/graphql':
          break;
        default:
          if (isConsolePath(url.pathname)) return await serveConsole(req, res, url.pathname);
          if (explorer && url.pathname.startsWith(EXPLORER_PATH)) return await explorer.serve(req, res, url.pathname);
          return sendJson(res, 404, { error: 'not found' });
      }
      const staffApi = url.pathname === '/admin/graphql';

      let body: unknown = undefined;
      if (req.method === 'POST') {
        const raw = await readBody(req, config.graphql.bodyLimitBytes);
        try {
          body = raw.length ? JSON.parse(raw) : {};
        } catch {
          return sendJson(res, 400, errorBody('BAD_USER_INPUT', 'Request body is not valid JSON'));
        }
      }
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const started = process.hrtime.bigint();
      const httpGraphQLRequest = { method: req.method ?? 'GET', headers, search: url.search, body };
      // A client operation runs in one of its user's turns (in-flight.ts), from parsing to the last byte written.
      const identity = staffApi ? null : await authenticate(req);
      const release = staffApi ? null : await inFlight.acquire(userKey(identity?.subject, addressOf(req)));
      try {
        // Two servers, two contexts: a client token means nothing to the staff API and vice versa.
        const result = staffApi
          ? await admin.apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => admin.context(req) })
          : await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => ({ user: null, identity, services, loaders: createLoaders(db, null) }) });
        for (const [k, v] of result.headers) res.setHeader(k, v);
        res.statusCode = result.status ?? 200;
        if (result.body.kind === 'complete') {
          res.end(result.body.string);
        } else {
          for await (const chunk of result.body.asyncIterator) res.write(chunk);
          res.end();
        }
      } finally {
        release?.();
      }
      // The label is the root field Apollo resolved, never the client's operationName (see ops/operation-label.ts).
      metrics.operationDuration.observe({ operation: operationLabelOf(httpGraphQLRequest), type: staffApi ? 'admin' : 'http', status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // The unread rest of the body must not be taken for the next request on this socket.
        res.setHeader('connection', 'close');
        return sendJson(res, 413, errorBody('BAD_USER_INPUT', `Request body exceeds ${config.graphql.bodyLimitBytes} bytes`));
      }
      // Refused before Apollo (a bad token, no turn left): the client's, with the status the error names.
      if (err instanceof DomainError && !res.headersSent) {
        const status = (err.extensions.http as { status?: number } | undefined)?.status ?? 400;
        return sendJson(res, status, errorBody(err.code, err.message));
      }
      log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL', 'Internal server error'));
    }
  };
}
