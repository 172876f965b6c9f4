/**
 * Serves the built staff console (admin/dist) at /admin: files with their content
 * types, index.html for client-side routes, long caching for hashed assets, and a 503
 * when the console has not been built.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** The content type a static file is served with, by its extension. */
export const contentTypeOf = (file: string): string => TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** The repository root: the nearest folder above this file with a package.json (works from src and dist). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const isConsolePath = (pathname: string): boolean => pathname === '/admin' || (pathname.startsWith('/admin/') && pathname !== '/admin/graphql');

export function createConsoleHandler(consoleDir: string) {
  const root = path.resolve(repoRoot(), consoleDir);

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };

  async function file(p: string): Promise<boolean> {
    try {
      return (await stat(p)).isFile();
    } catch {
      return false;
    }
  }

  function stream(req: IncomingMessage, res: ServerResponse, p: string, cache: string): void {
    res.writeHead(200, {
      'content-type': contentTypeOf(p),
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
      // The staff console is never framed by another site (clickjacking) and leaks no URLs.
      'x-frame-options': 'DENY',
      'content-security-policy': "frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(p)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  return async function serveConsole(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed');
    }
    const index = path.join(root, 'index.html');
    if (!(await file(index))) return send(res, 503, 'console not built: run npm run build:admin');

    let rel: string;
    try {
      rel = decodeURIComponent(pathname.slice('/admin'.length));
    } catch {
      return send(res, 400, 'bad path');
    }
    // Resolved against the root and checked to stay inside it: `..`, encoded or not, never escapes.
    const target = path.resolve(root, '.' + path.posix.normalize('/' + rel));
    if (rel.includes('\0') || (target !== root && !target.startsWith(root + path.sep))) return send(res, 404, 'not found');

    const isAsset = pathname.startsWith('/admin/assets/');
    if (target !== root && (await file(target))) {
      // Vite names assets by content hash, so they never change; everything else is revalidated.
      return stream(req, res, target, isAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    // A missing asset or file with an extension is a real 404, not a client route.
    if (isAsset || path.extname(rel) !== '') return send(res, 404, 'not found');
    return stream(req, res, index, 'no-cache');
  };
}
