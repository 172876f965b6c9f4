/**
 * Verifies client bearer tokens with `jose`: HS256 with a shared secret, or RS256/ES256
 * against the identity provider's JWKS. Claims become the identity the user row is
 * upserted from.
 */
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/env';
import { DomainError, unauthenticated } from '../errors';
import { isPlan, Plan, PLANS } from '../domain/plan';
import type { AgeBand } from '../users/user.entity';
import { STAFF_AUDIENCE } from '../admin/staff-token';

export interface Identity {
  subject: string;
  region: string | null;
  plan: Plan;
  ageBand: AgeBand | null;
  parentalGroupChats: boolean;
}

export type TokenVerifier = (token: string) => Promise<Identity>;

/**
 * How long a verified token is taken on trust without checking its signature again: at
 * most this long, and never past its `exp`. A key the identity provider withdraws from
 * its JWKS stops admitting tokens within this time.
 */
const VERIFIED_TTL_MS = 60_000;

/**
 * Remembers tokens that verified, so a client sending many requests with one token pays
 * for one signature check a minute rather than one per request. Failures are not kept:
 * a bad token is checked again every time.
 */
export function cachingVerifier(verify: TokenVerifier, now: () => number = () => Date.now(), max = 10_000): TokenVerifier {
  const verified = new LRUCache<string, { identity: Identity; until: number }>({ max });
  return async (token) => {
    const hit = verified.get(token);
    if (hit && hit.until > now()) return hit.identity;
    const identity = await verify(token);
    const exp = expiryMs(token);
    verified.set(token, { identity, until: Math.min(now() + VERIFIED_TTL_MS, exp ?? Infinity) });
    return identity;
  };
}

/** The `exp` of a token that already verified, in ms (null if it has none). */
export function expiryMs(token: string): number | null {
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof exp === 'number' ? exp * 1000 : null;
}

export function createTokenVerifier(auth: Config['auth']): TokenVerifier {
  return cachingVerifier(signatureVerifier(auth));
}

function signatureVerifier(auth: Config['auth']): TokenVerifier {
  const secret = auth.hs256Secret ? new TextEncoder().encode(auth.hs256Secret) : null;
  const jwks = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl)) : null;
  // A token without exp would be good forever: refused, like one that lives longer than allowed.
  const options = { issuer: auth.issuer ?? undefined, audience: auth.audience ?? undefined, requiredClaims: ['exp'] };
  return async (token) => {
    let payload: JWTPayload;
    try {
      if (jwks && !(secret && isHs256(token))) {
        ({ payload } = await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] }));
      } else if (secret) {
        ({ payload } = await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }));
      } else {
        throw unauthenticated('No token verifier configured');
      }
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (err instanceof errors.JWTExpired) throw unauthenticated('Token expired');
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp') throw unauthenticated('Token has no exp');
      throw unauthenticated('Invalid token');
    }
    assertLifetime(payload, auth.maxTtlSeconds);
    // A staff token is no client identity, even where both secrets are the same.
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (aud.includes(STAFF_AUDIENCE)) throw unauthenticated('Invalid token');
    return identityFromClaims(payload);
  };
}

/**
 * JWT_MAX_TTL_SECONDS: the token may not be valid for longer than that from when it was
 * issued, or from now when it has no iat or claims one still to come. Checked before a
 * token is remembered, so the cache never admits a token this refuses.
 */
function assertLifetime(payload: JWTPayload, maxTtlSeconds: number): void {
  const now = Math.floor(Date.now() / 1000);
  const from = typeof payload.iat === 'number' ? Math.min(payload.iat, now) : now;
  if ((payload.exp as number) - from > maxTtlSeconds) throw unauthenticated(`Token lifetime exceeds ${maxTtlSeconds} seconds`);
}

function isHs256(token: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
    return header.alg === 'HS256';
  } catch {
    return false;
  }
}

export function identityFromClaims(p: JWTPayload): Identity {
  // The client's token, not the service, is at fault: 401, like any other token refused.
  const bad = (m: string) => unauthenticated(`Invalid token claims: ${m}`);
  if (typeof p.sub !== 'string' || p.sub.length === 0 || p.sub.length > 200) throw bad('sub is required');
  const region = p.region;
  if (region !== undefined && (typeof region !== 'string' || !/^[A-Z]{2}$/.test(region))) throw bad('region must be an ISO 3166-1 alpha-2 code');
  const plan = p.plan ?? 'free';
  if (typeof plan !== 'string' || !isPlan(plan)) throw bad(`plan must be one of ${PLANS.join(', ')}`);
  const ageBand = p.age_band;
  if (ageBand !== undefined && ageBand !== 'adult' && ageBand !== 'minor') throw bad('age_band must be adult or minor');
  const parental = p.parental_group_chats;
  if (parental !== undefined && typeof parental !== 'boolean') throw bad('parental_group_chats must be a boolean');
  return {
    subject: p.sub,
    region: (region as string | undefined) ?? null,
    plan,
    ageBand: (ageBand as AgeBand | undefined) ?? null,
    parentalGroupChats: parental !== false,
  };
}

export interface DevTokenInput {
  sub: string;
  region?: string;
  plan?: Plan;
  age?: AgeBand;
  parentalGroupChats?: boolean;
  expiresIn?: string;
}

/** Signs an HS256 token, for development and tests. */
export async function signDevToken(secret: string, input: DevTokenInput): Promise<string> {
  const claims: Record<string, unknown> = { plan: input.plan ?? 'free' };
  if (input.region) claims.region = input.region;
  if (input.age) claims.age_band = input.age;
  if (input.parentalGroupChats !== undefined) claims.parental_group_chats = input.parentalGroupChats;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(input.sub)
    .setIssuedAt()
    .setExpirationTime(input.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(secret));
}
