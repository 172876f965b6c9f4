import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { devSecretsFile, readOrCreateDevSecrets } from './dev-secrets';
import { loadConfig } from './env';

describe('development secrets', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'rt-dev-secrets-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('live beside the embedded PostgreSQL folder', () => {
    expect(devSecretsFile('/srv/a/postgres')).toBe('/srv/a/dev-secrets.json');
    expect(devSecretsFile('.data/postgres')).toBe(path.resolve('.data/dev-secrets.json'));
  });

  it('are random per data folder, the same on every read of one folder, and readable by the owner alone', () => {
    const a = loadConfig({ EMBEDDED_PG_DIR: path.join(root, 'a', 'postgres') });
    const b = loadConfig({ EMBEDDED_PG_DIR: path.join(root, 'b', 'postgres') });
    const again = loadConfig({ EMBEDDED_PG_DIR: path.join(root, 'a', 'postgres') });

    expect(a.auth.hs256Secret).toMatch(/^[\w-]{43}$/);
    expect(a.staff.jwtSecret).toMatch(/^[\w-]{43}$/);
    expect(a.auth.hs256Secret).not.toBe(a.staff.jwtSecret);
    expect(b.auth.hs256Secret).not.toBe(a.auth.hs256Secret);
    expect(b.staff.jwtSecret).not.toBe(a.staff.jwtSecret);
    expect(again.auth.hs256Secret).toBe(a.auth.hs256Secret);
    expect(again.staff.jwtSecret).toBe(a.staff.jwtSecret);

    const file = path.join(root, 'a', 'dev-secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ jwtSecret: a.auth.hs256Secret, staffJwtSecret: a.staff.jwtSecret });
  });

  it('are not read when both secrets are set', () => {
    const config = loadConfig({ EMBEDDED_PG_DIR: path.join(root, 'c', 'postgres'), JWT_SECRET: 'x'.repeat(32), STAFF_JWT_SECRET: 'y'.repeat(32) });
    expect(config.auth).toMatchObject({ hs256Secret: 'x'.repeat(32), usingDevSecret: false });
    expect(() => statSync(path.join(root, 'c', 'dev-secrets.json'))).toThrow(/ENOENT/);
  });

  it('refuse a damaged file instead of signing with it', () => {
    const file = path.join(root, 'dev-secrets.json');
    writeFileSync(file, JSON.stringify({ jwtSecret: 'short', staffJwtSecret: 'short' }));
    expect(() => readOrCreateDevSecrets(file)).toThrow(/does not hold two secrets/);
  });
});
