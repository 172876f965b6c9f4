/**
 * Sign-in rate limiting kept in PostgreSQL, so it holds across API processes.
 *
 * An attempt is admitted under transaction-scoped advisory locks on its email and its
 * address (always taken in that order, so two attempts never wait on each other in a
 * cycle): the failures are counted and, if there is room, the attempt is recorded as a
 * failure before the locks are released and the password is checked. Parallel attempts
 * are thereby admitted one at a time against an exact count; a successful attempt is
 * marked afterwards and stops counting. Refused attempts are not recorded, so a lockout
 * ends on time however hard it is hammered.
 */
import type { DataSource } from 'typeorm';
import { DomainError } from '../errors';

export interface ThrottleLimits {
  perEmail: number;
  perIp: number;
  windowSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { perEmail: 5, perIp: 20, windowSeconds: 15 * 60 };

export class SignInThrottle {
  constructor(
    private readonly db: DataSource,
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
  ) {}

  /** Admits and records an attempt and returns its id, or throws RATE_LIMITED. */
  async begin(email: string, ip: string): Promise<string> {
    const result = await this.db.transaction(async (tx): Promise<{ refused: Date } | { id: string }> => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('staff-sign-in:email:' || $1))`, [email]);
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('staff-sign-in:ip:' || $1))`, [ip]);
      const [c]: Array<{ byEmail: number; byIp: number; emailSince: Date | null; ipSince: Date | null }> = await tx.query(
        `SELECT count(*) FILTER (WHERE email = $1)::int AS "byEmail", count(*) FILTER (WHERE ip = $2)::int AS "byIp",
                min(created_at) FILTER (WHERE email = $1) AS "emailSince", min(created_at) FILTER (WHERE ip = $2) AS "ipSince"
           FROM staff_sign_in_attempts
          WHERE NOT succeeded AND created_at > clock_timestamp() - make_interval(secs => $3) AND (email = $1 OR ip = $2)`,
        [email, ip, this.limits.windowSeconds],
      );
      const since = c.byEmail >= this.limits.perEmail ? c.emailSince : c.byIp >= this.limits.perIp ? c.ipSince : null;
      if (since) return { refused: since };
      const [attempt]: Array<{ id: string }> = await tx.query(`INSERT INTO staff_sign_in_attempts (email, ip) VALUES ($1, $2) RETURNING id::text`, [email, ip]);
      return { id: attempt.id };
    });
    if ('refused' in result) {
      const retryAfterSeconds = Math.max(1, Math.ceil((result.refused.getTime() + this.limits.windowSeconds * 1000 - Date.now()) / 1000));
      throw new DomainError('RATE_LIMITED', 'Too many sign-in attempts; try again later', { retryAfterSeconds });
    }
    return result.id;
  }

  async succeeded(attemptId: string): Promise<void> {
    await this.db.query(`UPDATE staff_sign_in_attempts SET succeeded = true WHERE id = $1`, [attemptId]);
  }
}
