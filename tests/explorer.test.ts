/**
 * The GraphQL explorer over HTTP (README "GraphQL explorer"): a browser's GET /graphql
 * gets GraphiQL, built from npm packages and served by the API with nothing from another
 * origin; every other request to /graphql is GraphQL as before; off in production unless
 * GRAPHQL_EXPLORER=true; a development token only where the service signs with the data
 * folder's development secret, never in production.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { loadConfig } from '../api/src/config/env';
import { createExplorer, EXPLORER_DEV_USER, mayHaveDevToken, prefersHtml } from '../api/src/graphql/explorer';
import { origin } from './support/admin';
import { startApi, TestApi, wsConnectionOutcome } from './support/harness';
import { DevApi, ensureExplorerBuilt, EXPLORER_DIST, startDevApi } from './support/explorer';

jest.setTimeout(60_000);

/** What Chromium sends when the address bar opens a URL. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const STAFF_SECRET = 'another-secret-for-staff-tokens-0123456789abcdef';
const PRODUCTION = { NODE_ENV: 'production', STAFF_JWT_SECRET: STAFF_SECRET };

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request, so Host and Accept reach the server exactly as written. */
function raw(base: string, pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: pathname, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const page = (base: string) => raw(base, '/graphql', { accept: BROWSER_ACCEPT });
const devToken = (base: string, host?: string) => raw(base, '/graphql/explorer/dev-token', { accept: 'application/json', ...(host ? { host } : {}) });
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
/** The same-origin files the page loads: its script and stylesheet links. */
const linkedAssets = (html: string) => [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== 'data:,');

let dev: DevApi;
let base: string;

beforeAll(async () => {
  ensureExplorerBuilt();
  dev = await startDevApi();
  base = origin(dev.api);
});
afterAll(async () => {
  await dev?.stop();
});

describe('in development', () => {
  it('serves the explorer to a browser opening /graphql, with a CSP that allows no other origin', async () => {
    const r = await page(base);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<div id="explorer"></div>');
    expect(r.body).toBe(readFileSync(path.join(EXPLORER_DIST, 'index.html'), 'utf8'));
    // The same URL answers JSON to everyone else: caches keep them apart.
    expect(r.headers.vary).toMatch(/accept/i);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['x-frame-options']).toBe('DENY');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("worker-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|wss?:|\*/);
  });

  it('serves the files the page links from the API, with their content types and immutable caching', async () => {
    const assets = linkedAssets((await page(base)).body);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    const types: string[] = [];
    for (const asset of assets) {
      expect(asset).toMatch(/^\/graphql\/explorer\/assets\/[\w.-]+\.(js|css)$/);
      const r = await raw(base, asset);
      expect({ asset, status: r.status }).toEqual({ asset, status: 200 });
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.body).toBe(readFileSync(path.join(EXPLORER_DIST, asset.slice('/graphql/explorer/'.length)), 'utf8'));
      types.push(String(r.headers['content-type']));
    }
    expect(types).toEqual(expect.arrayContaining(['text/javascript; charset=utf-8', 'text/css; charset=utf-8']));
    // Monaco's workers are files of the build too.
    const workers = readdirSync(path.join(EXPLORER_DIST, 'assets')).filter((f) => /\.worker-[\w-]+\.js$/.test(f));
    expect(workers.length).toBeGreaterThanOrEqual(2);
    expect((await raw(base, `/graphql/explorer/assets/${workers[0]}`)).headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('loads nothing from another origin: no absolute URL in the page, no CDN in any built file, stylesheets only local or data: URLs', async () => {
    const html = (await page(base)).body;
    expect(linkedAssets(html).filter((u) => !u.startsWith('/'))).toEqual([]);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    const CDN = /unpkg\.com|jsdelivr|cdnjs|esm\.sh|googleapis|gstatic|skypack|jspm\.io|cdn\./i;
    for (const file of readdirSync(path.join(EXPLORER_DIST, 'assets'))) {
      if (!/\.(js|css)$/.test(file)) continue;
      const text = readFileSync(path.join(EXPLORER_DIST, 'assets', file), 'utf8');
      expect({ file, cdn: CDN.exec(text)?.[0] ?? null }).toEqual({ file, cdn: null });
      if (file.endsWith('.css')) {
        const urls = [...text.matchAll(/url\(\s*["']?([^"')]+)/g)].map((m) => m[1]);
        expect({ file, external: urls.filter((u) => !u.startsWith('data:') && !u.startsWith('/graphql/explorer/assets/') && !u.startsWith('#')) }).toEqual({ file, external: [] });
      }
    }
  });

  it('answers 404 for anything under /graphql/explorer/ that is not a built asset, and never leaves the assets folder', async () => {
    for (const p of ['/graphql/explorer/', '/graphql/explorer/index.html', '/graphql/explorer/assets/missing-123.js', '/graphql/explorer/assets/..%2findex.html', '/graphql/explorer/assets/..%2f..%2f..%2f..%2fpackage.json', '/graphql/explorer/assets/%2e%2e/%2e%2e/vite.config.ts']) {
      const r = await raw(base, p);
      expect({ p, status: r.status, leaked: r.body.includes('devDependencies') || r.body.includes('<div id="explorer">') }).toEqual({ p, status: 404, leaked: false });
    }
    expect((await raw(base, '/graphql/explorer/dev-token', {}, 'POST')).status).toBe(405);
  });

  it('hands the page a development token for its made-up user, which the API accepts', async () => {
    const r = await devToken(base);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const body = JSON.parse(r.body);
    expect(body.claims).toEqual({ sub: EXPLORER_DEV_USER.sub, plan: 'pro', age_band: 'adult' });
    const claims = claimsOf(body.token);
    expect(claims).toMatchObject({ sub: 'explorer-dev', plan: 'pro', age_band: 'adult' });
    expect(claims.exp - claims.iat).toBe(12 * 3600);
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    const me = await dev.api.ok(body.token, `{ me { id plan ageBand } }`);
    expect(me.me).toMatchObject({ plan: 'pro', ageBand: 'adult' });
  });

  it('refuses the token to a page reached by a host name other than localhost (DNS rebinding)', async () => {
    expect((await devToken(base, 'attacker.example:4000')).status).toBe(403);
    expect((await devToken(base, 'localhost.attacker.example')).status).toBe(403);
    for (const host of ['localhost:4000', 'app.localhost', '127.0.0.1:4000', '[::1]:4000', '192.168.1.20']) {
      expect({ host, status: (await devToken(base, host)).status }).toEqual({ host, status: 200 });
    }
  });

  it('leaves GraphQL over HTTP and graphql-ws as it was: JSON POST and GET, CSRF prevention, subscriptions', async () => {
    const user = await dev.user();
    // POST with JSON, from any client.
    const me = await dev.api.gql(user.token, `{ me { id } }`);
    expect(me).toMatchObject({ status: 200, data: { me: { id: user.id } } });
    // GET asking for JSON (with a header no form or link can send) runs the query.
    const get = await raw(base, `/graphql?query=${encodeURIComponent('{ me { id } }')}`, { accept: 'application/json', 'apollo-require-preflight': 'true', authorization: `Bearer ${user.token}` });
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body)).toEqual({ data: { me: { id: user.id } } });
    // A client that accepts anything (curl's */*) gets GraphQL, not the page.
    const any = await raw(base, `/graphql?query=${encodeURIComponent('{ __typename }')}`, { accept: '*/*', 'apollo-require-preflight': 'true' });
    expect(JSON.parse(any.body)).toEqual({ data: { __typename: 'Query' } });
    // Apollo's CSRF prevention still refuses a GET query and a POST a form could send.
    const simpleGet = await raw(base, `/graphql?query=${encodeURIComponent('{ __typename }')}`, { accept: 'application/json' });
    expect(simpleGet.status).toBe(400);
    expect(simpleGet.body).toMatch(/CSRF/i);
    const formPost = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(formPost.status).toBe(400);
    expect(await formPost.text()).toMatch(/CSRF/i);
    // graphql-ws on the same path.
    expect(await wsConnectionOutcome(dev.api, user.token)).toBe('connected');
  });
});

describe('elsewhere', () => {
  const apis: TestApi[] = [];
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.stop()));
  });
  const start = async (overrides: Record<string, string>) => {
    const api = await startApi(overrides);
    apis.push(api);
    return origin(api);
  };

  it('is off in production: /graphql answers a browser as before, and the explorer paths do not exist', async () => {
    const prod = await start(PRODUCTION);
    const r = await page(prod);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).not.toContain('<div id="explorer">');
    expect(r.status).toBe(400);
    // As before: Apollo refuses a GET a link could send (CSRF prevention), the landing page being off.
    expect(JSON.parse(r.body).errors[0].message).toMatch(/CSRF/);
    for (const p of ['/graphql/explorer/dev-token', `/graphql/explorer/assets/${readdirSync(path.join(EXPLORER_DIST, 'assets')).find((f) => f.endsWith('.js'))}`]) {
      expect({ p, status: (await raw(prod, p)).status }).toEqual({ p, status: 404 });
    }
  });

  it('serves the explorer in production with GRAPHQL_EXPLORER=true, but never a development token', async () => {
    const prod = await start({ ...PRODUCTION, GRAPHQL_EXPLORER: 'true' });
    const r = await page(prod);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<div id="explorer"></div>');
    const asset = linkedAssets(r.body)[0];
    expect((await raw(prod, asset)).status).toBe(200);
    const token = await devToken(prod);
    expect(token.status).toBe(404);
    expect(token.body).not.toMatch(/token"/);
  });

  it('is off in development with GRAPHQL_EXPLORER=false: no page and no token, though the development secret is in use', async () => {
    const off = await startDevApi({ GRAPHQL_EXPLORER: 'false' });
    try {
      const b = origin(off.api);
      const r = await page(b);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect((await devToken(b)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });

  it('gives no token where client tokens are signed with JWT_SECRET or checked against an identity provider', async () => {
    // The test harness's API: JWT_SECRET is set, so the explorer is there without a token.
    const withSecret = await start({});
    expect((await page(withSecret)).status).toBe(200);
    expect((await devToken(withSecret)).status).toBe(404);

    // Development with JWT_JWKS_URL and no JWT_SECRET: nothing here can sign for the identity provider.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rt-jwks-'));
    const config = loadConfig({ NODE_ENV: 'development', JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json', EMBEDDED_PG_DIR: path.join(dataDir, 'postgres'), LOG_LEVEL: 'silent' });
    expect(config.auth.usingDevSecret).toBe(false);
    const explorer = createExplorer(config);
    const server = http.createServer((req, res) => void explorer.serve(req, res, new URL(req.url!, 'http://x').pathname));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect((await devToken(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)).status).toBe(404);
    } finally {
      server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('prefersHtml', () => {
  it('is true for a browser navigation and false for API clients', () => {
    expect(prefersHtml(BROWSER_ACCEPT)).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    for (const accept of [undefined, '', '*/*', 'application/json', 'application/graphql-response+json, application/json;q=0.9', 'application/json, text/html;q=0.5', 'text/html;q=0']) {
      expect({ accept, html: prefersHtml(accept) }).toEqual({ accept, html: false });
    }
  });
});

describe('mayHaveDevToken', () => {
  it('is true only for a loopback connection to a page opened at localhost or an IP address', () => {
    for (const [host, peer] of [['localhost:4000', '127.0.0.1'], ['127.0.0.1:4000', '::ffff:127.0.0.1'], ['[::1]:4000', '::1'], ['10.0.0.5:4000', '127.0.0.1'], ['app.localhost', '127.0.0.2']]) {
      expect({ host, peer, may: mayHaveDevToken(host, peer) }).toEqual({ host, peer, may: true });
    }
    // Another machine (HOST=0.0.0.0), a rebound name, or no Host at all.
    for (const [host, peer] of [['10.0.0.5:4000', '10.0.0.7'], ['localhost:4000', '192.168.1.20'], ['127.0.0.1', '::ffff:10.0.0.7'], ['attacker.example', '127.0.0.1'], [undefined, '127.0.0.1'], ['localhost', undefined]]) {
      expect({ host, peer, may: mayHaveDevToken(host, peer) }).toEqual({ host, peer, may: false });
    }
  });
});
