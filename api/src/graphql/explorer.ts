/**
 * The GraphQL explorer for client teams: GraphiQL, built by Vite from npm packages into
 * admin/explorer/dist (admin/explorer/), served by this process. A browser's GET /graphql
 * (one that prefers HTML to JSON) gets the page, its files come from
 * /graphql/explorer/assets/, and nothing is loaded from another origin (the CSP allows
 * none). On by default outside production (GRAPHQL_EXPLORER).
 *
 * GET /graphql/explorer/dev-token hands the page a token for a made-up user, and only
 * where the service signs client tokens with the data folder's development secret (no
 * JWT_SECRET, no JWT_JWKS_URL, never in production): anywhere else it is a 404, as if
 * the route did not exist, even with the explorer enabled.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Config } from '../config/env';
import { DevTokenInput, signDevToken } from '../auth/jwt';
import { contentTypeOf, repoRoot } from '../admin/console-static';

/** Where the explorer's own routes live: its assets and the development token. */
export const EXPLORER_PATH = '/graphql/explorer/';
const ASSETS_PATH = `${EXPLORER_PATH}assets/`;
const DEV_TOKEN_PATH = `${EXPLORER_PATH}dev-token`;
const DIST_DIR = 'admin/explorer/dist';

/** The made-up user of the development token (README, "GraphQL explorer"). */
export const EXPLORER_DEV_USER = { sub: 'explorer-dev', plan: 'pro', age: 'adult' } as const satisfies DevTokenInput;
const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

/**
 * Same origin only. Monaco styles its editors with inline styles and ships its icon font
 * as a data: URL; its workers are files of this origin. GraphQL over HTTP and graphql-ws
 * are both 'self' (CSP 3 matches ws: and wss: of the same host).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Whether an Accept header asks for HTML before JSON, as a browser's navigation does (curl's star-slash-star does not). */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type.trim() === 'text/html') html = Math.max(html, q);
    if (['application/json', 'application/graphql-response+json'].includes(type.trim())) json = Math.max(json, q);
  }
  return html > 0 && html >= json;
}

/**
 * Who may have the development token: a browser on this machine (a loopback connection,
 * even when HOST lets others reach the server: they can paste a token of their own), that
 * opened the page at localhost or an IP address. Another site's page whose name was made
 * to resolve to this server (DNS rebinding) would otherwise read the token as same-origin.
 */
export function mayHaveDevToken(host: string | undefined, remoteAddress: string | undefined): boolean {
  if (!remoteAddress || !(remoteAddress === '::1' || /^(::ffff:)?127\./.test(remoteAddress))) return false;
  if (!host) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  hostname = hostname.replace(/^\[(.*)\]$/, '$1');
  return hostname === 'localhost' || hostname.endsWith('.localhost') || isIP(hostname) !== 0;
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export interface Explorer {
  /** The page, for a browser's GET /graphql. */
  page(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** A path under EXPLORER_PATH: an asset or the development token. */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
}

export function createExplorer(config: Config): Explorer {
  const root = path.resolve(repoRoot(), DIST_DIR);
  const assets = path.join(root, 'assets');
  // Only the data folder's secret: a real JWT_SECRET or an identity provider's users are never minted here.
  const devSecret = config.nodeEnv !== 'production' && config.auth.usingDevSecret && config.auth.jwksUrl === null ? config.auth.hs256Secret : null;

  function stream(req: IncomingMessage, res: ServerResponse, file: string, headers: Record<string, string>): void {
    res.writeHead(200, { 'content-type': contentTypeOf(file), ...SECURITY_HEADERS, ...headers });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async function devToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!devSecret) return sendJson(res, 404, { error: 'not found' });
    if (!mayHaveDevToken(req.headers.host, req.socket.remoteAddress)) {
      return sendJson(res, 403, { error: 'the development token is given only to a browser on this machine with the page opened at localhost or an IP address' });
    }
    const ttl = Math.min(DEV_TOKEN_TTL_SECONDS, config.auth.maxTtlSeconds);
    const token = await signDevToken(devSecret, { ...EXPLORER_DEV_USER, expiresIn: `${ttl}s` });
    const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
    sendJson(res, 200, { token, claims: { sub: EXPLORER_DEV_USER.sub, plan: EXPLORER_DEV_USER.plan, age_band: EXPLORER_DEV_USER.age }, expiresAt }, { 'cross-origin-resource-policy': 'same-origin' });
  }

  return {
    async page(req, res) {
      const index = path.join(root, 'index.html');
      if (!(await isFile(index))) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', vary: 'accept' });
        return void res.end('GraphQL explorer not built: run npm run build:admin');
      }
      // The same URL answers JSON to other clients: caches must keep the two apart.
      stream(req, res, index, { 'cache-control': 'no-cache', vary: 'accept' });
    },

    async serve(req, res, pathname) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return sendJson(res, 405, { error: 'method not allowed' });
      }
      if (pathname === DEV_TOKEN_PATH) return devToken(req, res);
      if (!pathname.startsWith(ASSETS_PATH)) return sendJson(res, 404, { error: 'not found' });
      let rel: string;
      try {
        rel = decodeURIComponent(pathname.slice(ASSETS_PATH.length));
      } catch {
        return sendJson(res, 400, { error: 'bad path' });
      }
      // Resolved and checked to stay inside the assets folder: `..`, encoded or not, never escapes.
      const target = path.resolve(assets, '.' + path.posix.normalize('/' + rel));
      if (rel.includes('\0') || !target.startsWith(assets + path.sep) || !(await isFile(target))) return sendJson(res, 404, { error: 'not found' });
      // Vite names them by content hash: they never change.
      stream(req, res, target, { 'cache-control': 'public, max-age=31536000, immutable' });
    },
  };
}
