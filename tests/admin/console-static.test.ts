/** The built console served at /admin from a dist folder (ADMIN_DIST_DIR points at a temporary one here). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { origin } from '../support/admin';
import { startApi, TestApi } from '../support/harness';

let tmp: string;
let api: TestApi;
let base: string;

const INDEX = '<!doctype html><title>Roundtable staff</title><div id="root"></div>';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rt-console-'));
  const dist = path.join(tmp, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), INDEX);
  writeFileSync(path.join(dist, 'assets', 'index-3f2a1b.js'), 'console.log("console")');
  writeFileSync(path.join(dist, 'assets', 'index-3f2a1b.css'), 'body{}');
  writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(tmp, 'secret.txt'), 'outside the console');
  api = await startApi({ ADMIN_DIST_DIR: dist });
  base = origin(api);
});
afterAll(async () => {
  await api?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A raw request, so the path reaches the server exactly as written (fetch would normalize `..`). */
function raw(pathname: string, method = 'GET'): Promise<{ status: number; type: string | undefined; cache: string | undefined; frame: string | undefined; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: pathname, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], cache: res.headers['cache-control'], frame: res.headers['x-frame-options'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('serves index.html for /admin, /admin/ and client routes such as /admin/cases/123', async () => {
  for (const p of ['/admin', '/admin/', '/admin/cases/123', '/admin/SafetyCase/abc/show']) {
    const r = await raw(p);
    expect({ p, status: r.status, type: r.type, body: r.body }).toEqual({ p, status: 200, type: 'text/html; charset=utf-8', body: INDEX });
    expect(r.cache).toBe('no-cache');
    expect(r.frame).toBe('DENY'); // no clickjacking of staff actions
  }
});

it('serves assets with their content type and immutable caching', async () => {
  const js = await raw('/admin/assets/index-3f2a1b.js');
  expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'public, max-age=31536000, immutable' });
  expect((await raw('/admin/assets/index-3f2a1b.css')).type).toBe('text/css; charset=utf-8');
  expect(await raw('/admin/favicon.svg')).toMatchObject({ status: 200, type: 'image/svg+xml', cache: 'no-cache' });
  expect((await raw('/admin/assets/index-3f2a1b.js', 'HEAD')).status).toBe(200);
});

it('answers 404 for missing assets and files rather than the app', async () => {
  expect((await raw('/admin/assets/missing-123.js')).status).toBe(404);
  expect((await raw('/admin/missing.png')).status).toBe(404);
});

it('never serves files outside the console folder', async () => {
  for (const p of ['/admin/../secret.txt', '/admin/..%2fsecret.txt', '/admin/%2e%2e/secret.txt', '/admin/assets/..%2f..%2fsecret.txt', '/admin/%2e%2e%2f%2e%2e%2fpackage.json', '/admin/..%5csecret.txt', '/admin/%00']) {
    const r = await raw(p);
    expect({ p, leaked: r.body.includes('outside the console') || r.body.includes('"devDependencies"') }).toEqual({ p, leaked: false });
    expect([200, 400, 404]).toContain(r.status);
    if (r.status === 200) expect(r.body).toBe(INDEX);
  }
});

it('refuses other methods, and leaves /admin/graphql and unrelated paths alone', async () => {
  expect((await raw('/admin/cases', 'POST')).status).toBe(405);
  expect((await raw('/adminx')).status).toBe(404);
  const gql = await fetch(`${base}/admin/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
  expect(((await gql.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
});

it('answers 503 with how to build when the console is not built', async () => {
  const bare = await startApi({ ADMIN_DIST_DIR: path.join(tmp, 'not-built') });
  try {
    const r = await fetch(`${origin(bare)}/admin/cases`);
    expect(r.status).toBe(503);
    expect(await r.text()).toBe('console not built: run npm run build:admin');
  } finally {
    await bare.stop();
  }
});
