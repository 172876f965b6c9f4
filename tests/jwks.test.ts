import http from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { startApi, TestApi } from './support/harness';

/** An identity provider on loopback publishing its RS256 public key as a JWKS. */
let idp: http.Server;
let privateKey: KeyLike;
let api: TestApi;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  idp = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  api = await startApi({ JWT_SECRET: '', JWT_JWKS_URL: jwksUrl, JWT_ISSUER: 'https://idp.example' });
});

afterAll(async () => {
  await api.stop();
  idp.close();
});

const sign = (key: KeyLike, claims: Record<string, unknown>, issuer = 'https://idp.example') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('jwks-user').setIssuer(issuer).setIssuedAt().setExpirationTime('5m').sign(key);

it('accepts RS256 tokens verified against the identity provider JWKS and upserts their claims', async () => {
  const token = await sign(privateKey, { plan: 'pro', region: 'NZ', age_band: 'adult' });
  const r = await api.gql(token, `{ me { plan region ageBand } }`);
  expect(r.errors).toBeUndefined();
  expect(r.data.me).toEqual({ plan: 'pro', region: 'NZ', ageBand: 'adult' });
});

it('refuses tokens signed by another key, or from another issuer', async () => {
  const other = await generateKeyPair('RS256');
  const forged = await sign(other.privateKey, { plan: 'pro' });
  const wrongIssuer = await sign(privateKey, { plan: 'pro' }, 'https://evil.example');
  for (const token of [forged, wrongIssuer]) {
    const r = await api.gql(token, `{ me { plan } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }
});

it('refuses HS256 tokens when only a JWKS is configured', async () => {
  const hs = await api.token({ sub: 'someone' });
  const r = await api.gql(hs, `{ me { plan } }`);
  expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});
