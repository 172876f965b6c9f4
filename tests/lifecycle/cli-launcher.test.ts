/**
 * The CLIs run the compiled API (issue 12, item 6): `npm run token` and `npm run
 * staff:create` go through api/scripts/run-cli.js, which compiles only when a source is
 * newer than the build, so a CLI beside a built tree starts at once.
 */
import { spawnSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { ensureBuilt, ROOT } from '../support/build';

jest.setTimeout(180_000);
beforeAll(ensureBuilt, 180_000);

const LAUNCHER = path.join(ROOT, 'api/scripts/run-cli.js');
const BUILT_TOKEN_CLI = path.join(ROOT, 'dist/api/src/cli/token.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [LAUNCHER, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, EMBEDDED_PG_DIR: path.join(ROOT, '.data/cli-launcher-test') }, timeout: 170_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('npm run token -- --help prints every option and exits 0', () => {
  const r = cli('token', '--help');
  expect(r.status).toBe(0);
  for (const option of ['--sub', '--plan', '--region', '--age', '--parental-group-chats', '--expires', '--help']) expect(r.stdout).toContain(option);
  const wrong = cli('token', '--no-such-option');
  expect(wrong.status).toBe(1);
  expect(wrong.stderr).toMatch(/Unknown option '--no-such-option'[\s\S]*usage: npm run token/);
});

it('does not compile again when the build is newer than every source, and compiles when a source changed', () => {
  cli('token', '--help'); // brings the build up to date, whatever ran before
  const built = statSync(BUILT_TOKEN_CLI).mtimeMs;
  const fresh = cli('token', '--help');
  expect(fresh.stderr).not.toContain('compiling');
  expect(statSync(BUILT_TOKEN_CLI).mtimeMs).toBe(built);

  const source = path.join(ROOT, 'api/src/cli/token.ts');
  const { atime, mtime } = statSync(source);
  try {
    const later = new Date(built + 1000);
    utimesSync(source, later, later);
    const stale = cli('token', '--help');
    expect(stale.status).toBe(0);
    expect(stale.stderr).toContain('compiling the API');
    expect(statSync(BUILT_TOKEN_CLI).mtimeMs).toBeGreaterThan(later.getTime());
  } finally {
    utimesSync(source, atime, mtime);
  }
});
