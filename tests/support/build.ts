/**
 * Tests that run the compiled service or CLIs (as `npm start` and `npm run staff:create`
 * do) compile it once per jest run: a marker keyed by the jest process stops later test
 * files from compiling again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export function ensureBuilt(): void {
  const marker = path.join(ROOT, '.data', `tests-built-${process.pid}`);
  if (existsSync(marker)) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  mkdirSync(path.dirname(marker), { recursive: true });
  writeFileSync(marker, new Date().toISOString());
}

/** The newest modification time of any file below `dir`: whether a build is older than its sources. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : statSync(file).mtimeMs);
  }
  return newest;
}
