/**
 * Staff tokens: HS256 with their own secret and the audience `roundtable-staff`, so a
 * staff token never passes the client verifier and a client token never passes this
 * one, even when both secrets are configured the same.
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import { unauthenticated } from '../errors';

export const STAFF_AUDIENCE = 'roundtable-staff';

export interface StaffClaims {
  staffId: string;
  role: string;
}

export async function signStaffToken(secret: string, claims: StaffClaims, ttlSeconds: number, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.staffId)
    .setAudience(STAFF_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
  return { token, expiresAt: new Date(exp * 1000) };
}

/** The staff id of a valid staff token; UNAUTHENTICATED otherwise. */
export async function verifyStaffToken(secret: string, token: string): Promise<string> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { audience: STAFF_AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw unauthenticated('Invalid staff token');
    return payload.sub;
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw unauthenticated('Staff session expired');
    throw unauthenticated('Invalid staff token');
  }
}
