import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import { ConfigError, loadConfig } from './env';

const SECRET = 'a-production-secret-that-is-32-chars-or-more';
/** Production also needs its own staff-token secret; these tests are about the client one. */
const STAFF = { STAFF_JWT_SECRET: 'a-staff-token-secret-that-is-32-chars-or-more' };
/** Stands in for the data folder's secrets file (config/dev-secrets.ts has its own tests). */
const DEV = { jwtSecret: 'dev-jwt-secret-of-this-data-folder-0123456789', staffJwtSecret: 'dev-staff-secret-of-this-data-folder-0123456' };
const devSecrets = jest.fn(() => DEV);

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problems(env: Record<string, string>, secrets: typeof devSecrets | (() => never) = devSecrets): string[] {
  try {
    loadConfig(env, secrets);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

describe('loadConfig', () => {
  it('keeps safety evidence 90 days by default and refuses a retention that is not 1 to 3650 whole days', () => {
    expect(loadConfig({ NODE_ENV: 'test' }, devSecrets).safetyEvidenceRetentionDays).toBe(90);
    expect(loadConfig({ NODE_ENV: 'test', SAFETY_EVIDENCE_RETENTION_DAYS: '7' }, devSecrets).safetyEvidenceRetentionDays).toBe(7);
    for (const bad of ['0', '-5', '2.5', 'ninety', '3651']) {
      expect(problems({ NODE_ENV: 'test', SAFETY_EVIDENCE_RETENTION_DAYS: bad })).toEqual([`SAFETY_EVIDENCE_RETENTION_DAYS must be an integer from 1 to 3650, got "${bad}"`]);
    }
  });

  it('refuses production without JWT_SECRET or JWT_JWKS_URL, saying which to set', () => {
    expect(problems({ NODE_ENV: 'production', ...STAFF })).toEqual([
      'JWT_SECRET or JWT_JWKS_URL is required in production (the development secret is refused)',
    ]);
    expect(() => loadConfig({ NODE_ENV: 'production', ...STAFF })).toThrow(/Invalid configuration:\n {2}- JWT_SECRET or JWT_JWKS_URL is required in production/);
  });

  it('never reads development secrets in production', () => {
    devSecrets.mockClear();
    loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...STAFF }, devSecrets);
    expect(() => loadConfig({ NODE_ENV: 'production' }, devSecrets)).toThrow(ConfigError);
    expect(devSecrets).not.toHaveBeenCalled();
  });

  it('accepts production with a secret or a JWKS URL, with introspection off by default', () => {
    const withSecret = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...STAFF });
    expect(withSecret.auth).toMatchObject({ hs256Secret: SECRET, usingDevSecret: false });
    expect(withSecret.graphql.introspection).toBe(false);
    const withJwks = loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://id.example.test/.well-known/jwks.json', ...STAFF });
    expect(withJwks.auth).toMatchObject({ hs256Secret: null, jwksUrl: 'https://id.example.test/.well-known/jwks.json' });
  });

  it('uses the data folder\'s development secret only outside production and says so', () => {
    devSecrets.mockClear();
    const config = loadConfig({ EMBEDDED_PG_DIR: '/srv/rt/postgres' }, devSecrets);
    expect(devSecrets).toHaveBeenCalledWith('/srv/rt/dev-secrets.json');
    expect(config.nodeEnv).toBe('development');
    expect(config.auth).toMatchObject({ hs256Secret: DEV.jwtSecret, usingDevSecret: true });
    expect(config.graphql.introspection).toBe(true);
    expect(config.databaseUrl).toBeNull();
    expect(config.redisUrl).toBeNull();
  });

  it('lists every bad value at once, not just the first', () => {
    const found = problems({
      NODE_ENV: 'staging',
      PORT: '70000',
      DATABASE_URL: 'mysql://db/roundtable',
      REDIS_URL: 'not a url',
      JWT_SECRET: 'short',
      MAX_GROUP_MEMBERS: '1',
      UNKNOWN_AGE_IS_MINOR: 'maybe',
      HTTP_BODY_LIMIT_BYTES: '12.5',
      AI_NAME: 'the AI!',
      LOG_LEVEL: 'loud',
    });
    expect(found).toEqual([
      'NODE_ENV must be development, test or production, got "staging"',
      'JWT_SECRET must be at least 32 characters',
      'PORT must be an integer from 0 to 65535, got "70000"',
      'DATABASE_URL must use postgres: or postgresql:, got "mysql:"',
      'REDIS_URL is not a valid URL',
      'UNKNOWN_AGE_IS_MINOR must be true or false, got "maybe"',
      'MAX_GROUP_MEMBERS must be an integer from 2 to 1000, got "1"',
      'HTTP_BODY_LIMIT_BYTES must be an integer from 1000 to 10000000, got "12.5"',
      'AI_NAME must be 1 to 30 letters, digits or _',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('lists the production secret problem together with the others', () => {
    const found = problems({ NODE_ENV: 'production', PORT: '-1', GRAPHQL_INTROSPECTION: 'sometimes', ...STAFF });
    expect(found).toHaveLength(3);
    expect(found).toEqual(
      expect.arrayContaining([
        'JWT_SECRET or JWT_JWKS_URL is required in production (the development secret is refused)',
        'PORT must be an integer from 0 to 65535, got "-1"',
        'GRAPHQL_INTROSPECTION must be true or false, got "sometimes"',
      ]),
    );
  });

  it('needs its own staff-token secret in production: set, not the development one, not the client secret', () => {
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: SECRET })).toEqual(['STAFF_JWT_SECRET is required in production (the development secret is refused)']);
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: SECRET, STAFF_JWT_SECRET: SECRET })).toEqual(['STAFF_JWT_SECRET must differ from JWT_SECRET']);
    expect(problems({ STAFF_JWT_SECRET: 'short' })).toEqual(['STAFF_JWT_SECRET must be at least 32 characters']);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...STAFF }).staff).toMatchObject({ jwtSecret: STAFF.STAFF_JWT_SECRET, tokenTtlSeconds: 1800, usingDevSecret: false });
  });

  it('uses the data folder\'s development staff secret outside production', () => {
    expect(loadConfig({}, devSecrets).staff).toMatchObject({ jwtSecret: DEV.staffJwtSecret, usingDevSecret: true, tokenTtlSeconds: 1800 });
  });

  it('listens on 127.0.0.1 in development unless HOST is set, and on every interface otherwise', () => {
    expect(loadConfig({}, devSecrets).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }, devSecrets).host).toBe('0.0.0.0');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...STAFF }).host).toBe('0.0.0.0');
  });

  it('reports a development secrets file it cannot read as a configuration problem', () => {
    const broken = () => {
      throw new Error('dev-secrets.json does not hold two secrets');
    };
    expect(problems({ NODE_ENV: 'test', JWT_SECRET: SECRET }, broken)).toEqual(['the development secrets could not be read or created: dev-secrets.json does not hold two secrets']);
  });

  it('serves /metrics on its own port and behind a token only when asked', () => {
    expect(loadConfig({}, devSecrets).metrics).toEqual({ port: null, host: '127.0.0.1', token: null, loopResolutionMs: 10 });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5', METRICS_TOKEN: 'a-scrape-token-0123' }, devSecrets).metrics).toEqual({ port: 9464, host: '10.0.0.5', token: 'a-scrape-token-0123', loopResolutionMs: 10 });
    expect(loadConfig({ METRICS_LOOP_RESOLUTION_MS: '1' }, devSecrets).metrics.loopResolutionMs).toBe(1);
    expect(problems({ METRICS_LOOP_RESOLUTION_MS: '0' })).toEqual(['METRICS_LOOP_RESOLUTION_MS must be an integer from 1 to 1000, got "0"']);
    expect(problems({ METRICS_TOKEN: 'short', METRICS_PORT: 'x' })).toEqual(['METRICS_TOKEN must be at least 16 characters', 'METRICS_PORT must be an integer from 0 to 65535, got "x"']);
    expect(problems({ METRICS_PORT: '4000' })).toEqual(['METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)']);
  });

  it('reads TRUST_PROXY as a hop count or a list of addresses and subnets, and refuses anything else', () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(problems({ TRUST_PROXY: 'the-load-balancer' })).toEqual([expect.stringMatching(/^TRUST_PROXY must be a hop count or addresses/)]);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '' }, devSecrets)).toEqual(loadConfig({}, devSecrets));
  });
});

describe('.env.example', () => {
  const root = path.resolve(__dirname, '../../..');
  const example = parse(readFileSync(path.join(root, '.env.example')));
  const source = readFileSync(path.join(__dirname, 'env.ts'), 'utf8');
  const read = [...source.matchAll(/\br\.(?:str|int|bool|url|optional)\('([A-Z0-9_]+)'/g)].map((m) => m[1]);

  it('lists every variable that loadConfig reads, and no other', () => {
    expect(read.length).toBeGreaterThan(20);
    expect(Object.keys(example).sort()).toEqual([...new Set(read)].sort());
  });

  it('shows the defaults: loading it as is gives the same config as an empty environment', () => {
    expect(loadConfig(example, devSecrets)).toEqual(loadConfig({}, devSecrets));
  });
});
