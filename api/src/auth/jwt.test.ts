import { cachingVerifier, Identity, signDevToken } from './jwt';

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
