/**
 * The GraphQL explorer in tests: its build (admin/explorer/dist), and an API in
 * development mode signing client tokens with a development secret of its own data
 * folder (a temporary one), as `npm start` does on a fresh clone.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { newestMtime } from './build';
import { signDevToken } from '../../api/src/auth/jwt';
import { startApi, TestApi, TestUser } from './harness';

const ROOT = resolve(__dirname, '../..');
export const EXPLORER_DIST = join(ROOT, 'admin', 'explorer', 'dist');


/** Builds admin/explorer/dist when it is missing or older than its sources (npm test builds it already). */
export function ensureExplorerBuilt(): void {
  const index = join(EXPLORER_DIST, 'index.html');
  const dir = join(ROOT, 'admin', 'explorer');
  const sources = Math.max(newestMtime(join(dir, 'src')), statSync(join(dir, 'index.html')).mtimeMs, statSync(join(dir, 'vite.config.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'admin/explorer/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit' });
}

export interface DevApi {
  api: TestApi;
  /** Signs a client token the way `npm run token` does here: with the data folder's development secret. */
  token(sub: string): Promise<string>;
  /** A user with a public profile, its token signed with the development secret. */
  user(sub?: string): Promise<TestUser>;
  stop(): Promise<void>;
}

/** An API with NODE_ENV=development and no JWT_SECRET: client tokens are signed with the data folder's development secret. */
export async function startDevApi(overrides: Record<string, string> = {}): Promise<DevApi> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'rt-explorer-'));
  const api = await startApi({ NODE_ENV: 'development', JWT_SECRET: '', STAFF_JWT_SECRET: '', EMBEDDED_PG_DIR: join(dataDir, 'postgres'), ...overrides });
  const secret = api.app.services.config.auth.hs256Secret;
  if (!api.app.services.config.auth.usingDevSecret || !secret) throw new Error('the development API does not sign with the development secret');
  const token = (sub: string) => signDevToken(secret, { sub, plan: 'plus', region: 'DE', age: 'adult' });
  return {
    api,
    token,
    async user(sub = `user-${randomUUID()}`) {
      const t = await token(sub);
      const username = `u_${randomUUID().slice(0, 8)}`;
      const r = await api.ok(t, `mutation($i: ProfileInput!) { upsertProfile(input: $i) { id } }`, { i: { displayName: `User ${username}`, username, photoUrl: `https://example.test/${username}.png` } });
      return { id: r.upsertProfile.id, token: t, username, sub };
    },
    async stop() {
      await api.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
