/**
 * Sign-in rate limiting kept in PostgreSQL, so it holds across API processes.
 *
 * Each attempt is inserted (and committed) before the failures are counted and before
 * the password is checked. Of any set of parallel attempts that get through, the last
 * one inserted counts all the others, so no more than the limit ever proceed; a
 * successful attempt is marked afterwards and stops counting. Refused attempts are
 * removed once refused (they only ever add to a count that is already over).
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

  /** Records an attempt and returns its id, or throws RATE_LIMITED. */
  async begin(email: string, ip: string): Promise<string> {
    const [attempt]: Array<{ id: string }> = await this.db.query(
      `INSERT INTO staff_sign_in_attempts (email, ip) VALUES ($1, $2) RETURNING id::text`,
      [email, ip],
    );
    const [c]: Array<{ byEmail: number; byIp: number; emailSince: Date | null; ipSince: Date | null }> = await this.db.query(
      `SELECT count(*) FILTER (WHERE email = $1)::int AS "byEmail", count(*) FILTER (WHERE ip = $2)::int AS "byIp",
              min(created_at) FILTER (WHERE email = $1) AS "emailSince", min(created_at) FILTER (WHERE ip = $2) AS "ipSince"
         FROM staff_sign_in_attempts
        WHERE NOT succeeded AND created_at > clock_timestamp() - make_interval(secs => $3) AND (email = $1 OR ip = $2)`,
      [email, ip, this.limits.windowSeconds],
    );
    const over = c.byEmail > this.limits.perEmail ? c.emailSince : c.byIp > this.limits.perIp ? c.ipSince : null;
    if (over) {
      // A refused attempt checks no password, so it does not count: the lockout ends on time.
      await this.db.query(`DELETE FROM staff_sign_in_attempts WHERE id = $1`, [attempt.id]);
      const retryAfterSeconds = Math.max(1, Math.ceil((over.getTime() + this.limits.windowSeconds * 1000 - Date.now()) / 1000));
      throw new DomainError('RATE_LIMITED', 'Too many sign-in attempts; try again later', { retryAfterSeconds });
    }
    return attempt.id;
  }

  async succeeded(attemptId: string): Promise<void> {
    await this.db.query(`UPDATE staff_sign_in_attempts SET succeeded = true WHERE id = $1`, [attemptId]);
  }
}
