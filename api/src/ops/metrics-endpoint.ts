/**
 * /metrics for Prometheus: on the main port, or with METRICS_PORT on a listener of its
 * own (METRICS_HOST, 127.0.0.1 by default) that serves nothing else; with METRICS_TOKEN a
 * scrape must present `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/env';
import type { Metrics } from './metrics';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Answers one scrape: 401 without the configured token, else the registry's exposition. */
export function createMetricsHandler(metrics: Metrics, token: string | null) {
  const expected = token === null ? null : digest(token);
  return async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (expected) {
      const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      // Digests have one length, so the comparison takes the same time whatever was sent.
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' });
        return void res.end('metrics need the bearer token of METRICS_TOKEN\n');
      }
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
  };
}

export interface MetricsListener {
  /** Listens on METRICS_HOST:METRICS_PORT and resolves with the bound port. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** The listener of METRICS_PORT: /metrics and nothing else. */
export function createMetricsListener(metrics: Metrics, config: Config['metrics'] & { port: number }, log: Logger): MetricsListener {
  const serve = createMetricsHandler(metrics, config.token);
  const server = http.createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('not found\n');
    }
    serve(req, res).catch((err) => {
      log.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as { port: number }).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
