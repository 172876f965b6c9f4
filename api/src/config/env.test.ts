import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import { ConfigError, DEV_JWT_SECRET, DEV_STAFF_JWT_SECRET, loadConfig } from './env';

const SECRET = 'a-production-secret-that-is-32-chars-or-more';
/** Production also needs its own staff-token secret; these tests are about the client one. */
const STAFF = { STAFF_JWT_SECRET: 'a-staff-token-secret-that-is-32-chars-or-more' };

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

describe('loadConfig', () => {
  it('refuses production without JWT_SECRET or JWT_JWKS_URL, saying which to set', () => {
    expect(problems({ NODE_ENV: 'production', ...STAFF })).toEqual([
      'JWT_SECRET or JWT_JWKS_URL is required in production (the development secret is refused)',
    ]);
    expect(() => loadConfig({ NODE_ENV: 'production', ...STAFF })).toThrow(/Invalid configuration:\n {2}- JWT_SECRET or JWT_JWKS_URL is required in production/);
  });

  it('refuses the development secret in production', () => {
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET, ...STAFF })).toEqual(['JWT_SECRET must not be the development default in production']);
  });

  it('accepts production with a secret or a JWKS URL, with introspection off by default', () => {
    const withSecret = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...STAFF });
    expect(withSecret.auth).toMatchObject({ hs256Secret: SECRET, usingDevSecret: false });
    expect(withSecret.graphql.introspection).toBe(false);
    const withJwks = loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://id.example.test/.well-known/jwks.json', ...STAFF });
    expect(withJwks.auth).toMatchObject({ hs256Secret: null, jwksUrl: 'https://id.example.test/.well-known/jwks.json' });
  });

  it('uses the development secret only outside production and says so', () => {
    const config = loadConfig({});
    expect(config.nodeEnv).toBe('development');
    expect(config.auth).toMatchObject({ hs256Secret: DEV_JWT_SECRET, usingDevSecret: true });
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
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: SECRET, STAFF_JWT_SECRET: DEV_STAFF_JWT_SECRET })).toEqual([
      'STAFF_JWT_SECRET must not be the development default in production',
    ]);
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: SECRET, STAFF_JWT_SECRET: SECRET })).toEqual(['STAFF_JWT_SECRET must differ from JWT_SECRET']);
    expect(problems({ STAFF_JWT_SECRET: 'short' })).toEqual(['STAFF_JWT_SECRET must be at least 32 characters']);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...STAFF }).staff).toMatchObject({ jwtSecret: STAFF.STAFF_JWT_SECRET, tokenTtlSeconds: 1800, usingDevSecret: false });
  });

  it('uses the development staff secret outside production', () => {
    expect(loadConfig({}).staff).toMatchObject({ jwtSecret: DEV_STAFF_JWT_SECRET, usingDevSecret: true, tokenTtlSeconds: 1800 });
  });

  it('reads TRUST_PROXY as a hop count or a list of addresses and subnets, and refuses anything else', () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(problems({ TRUST_PROXY: 'the-load-balancer' })).toEqual([expect.stringMatching(/^TRUST_PROXY must be a hop count or addresses/)]);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '' })).toEqual(loadConfig({}));
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
    expect(loadConfig(example)).toEqual(loadConfig({}));
  });
});
