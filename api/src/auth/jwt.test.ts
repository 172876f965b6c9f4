import { SignJWT } from 'jose';
import { cachingVerifier, createTokenVerifier, Identity, signDevToken } from './jwt';

const SECRET = 'unit-secret-that-is-long-enough-0123456789';
const identity: Identity = { subject: 'u1', region: 'DE', plan: 'plus', ageBand: 'adult', parentalGroupChats: true };

/** A verifier that counts its calls and answers from a script. */
function counting(answer: () => Identity = () => identity) {
  const calls: string[] = [];
  const verify = async (token: string) => {
    calls.push(token);
    return answer();
  };
  return { calls, verify };
}

describe('cachingVerifier', () => {
  it('checks a token once, then takes it on trust for up to a minute', async () => {
    const token = await signDevToken(SECRET, { sub: 'u1', expiresIn: '1h' });
    let t = Date.now();
    const inner = counting();
    const verify = cachingVerifier(inner.verify, () => t);
    expect(await verify(token)).toEqual(identity);
    t += 59_000;
    expect(await verify(token)).toEqual(identity);
    expect(inner.calls).toHaveLength(1);
    t += 2_000;
    await verify(token);
    expect(inner.calls).toHaveLength(2);
  });

  it("never trusts a token past its exp: it is verified again (and refused by the real check)", async () => {
    const token = await signDevToken(SECRET, { sub: 'u1', expiresIn: '10s' });
    const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp * 1000;
    let t = exp - 5_000;
    let expired = false;
    const inner = counting(() => {
      if (expired) throw new Error('Token expired');
      return identity;
    });
    const verify = cachingVerifier(inner.verify, () => t);
    await verify(token);
    t = exp - 1;
    await verify(token);
    expect(inner.calls).toHaveLength(1);
    t = exp;
    expired = true;
    await expect(verify(token)).rejects.toThrow('Token expired');
    expect(inner.calls).toHaveLength(2);
  });

  it('does not remember failures', async () => {
    const inner = counting(() => {
      throw new Error('Invalid token');
    });
    const verify = cachingVerifier(inner.verify);
    await expect(verify('a.b.c')).rejects.toThrow('Invalid token');
    await expect(verify('a.b.c')).rejects.toThrow('Invalid token');
    expect(inner.calls).toHaveLength(2);
  });

  it('keeps each token to its own identity', async () => {
    const a = await signDevToken(SECRET, { sub: 'a' });
    const b = await signDevToken(SECRET, { sub: 'b' });
    const verify = cachingVerifier(async (token) => ({ ...identity, subject: JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub }));
    expect((await verify(a)).subject).toBe('a');
    expect((await verify(b)).subject).toBe('b');
    expect((await verify(a)).subject).toBe('a');
  });
});

describe('createTokenVerifier: exp and JWT_MAX_TTL_SECONDS', () => {
  const auth = { hs256Secret: SECRET, jwksUrl: null, issuer: null, audience: null, usingDevSecret: false, maxTtlSeconds: 3600 };
  const now = () => Math.floor(Date.now() / 1000);
  const sign = ({ iat, exp }: { iat?: number; exp?: number }) => {
    let jwt = new SignJWT({ plan: 'plus' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1');
    if (iat !== undefined) jwt = jwt.setIssuedAt(iat);
    if (exp !== undefined) jwt = jwt.setExpirationTime(exp);
    return jwt.sign(new TextEncoder().encode(SECRET));
  };
  afterEach(() => jest.useRealTimers());

  it('refuses a token without exp', async () => {
    await expect(createTokenVerifier(auth)(await sign({ iat: now() }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Token has no exp' });
  });

  it.each<[string, { iat?: number; exp: number }]>([
    ['from iat', { iat: -10, exp: 3600 }],
    ['from now, without iat', { exp: 3601 }],
    ['from now, when iat lies ahead', { iat: 7200, exp: 7300 }],
  ])('refuses a token valid for longer than the limit, counted %s', async (_how, t) => {
    const token = await sign({ iat: t.iat === undefined ? undefined : now() + t.iat, exp: now() + t.exp });
    await expect(createTokenVerifier(auth)(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Token lifetime exceeds 3600 seconds' });
  });

  it('accepts a token within the limit, with or without iat (control)', async () => {
    const verify = createTokenVerifier(auth);
    expect((await verify(await sign({ iat: now() - 600, exp: now() + 3000 }))).subject).toBe('u1');
    expect((await verify(await sign({ exp: now() + 3500 }))).subject).toBe('u1');
  });

  it('does not answer from its cache for a token past exp', async () => {
    const verify = createTokenVerifier(auth);
    const token = await sign({ iat: now(), exp: now() + 600 });
    await verify(token);
    jest.useFakeTimers({ now: Date.now() + 601_000 });
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Token expired' });
  });
});
