/**
 * Staff accounts: creation (CLI and tests), sign-in with argon2id and throttling, staff
 * tokens, and resolving a token to the current staff row on every request.
 */
import argon2 from 'argon2';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/env';
import { badInput, unauthenticated } from '../errors';
import { isUuid } from '../groups/group.policy';
import { AuditActor, writeAudit } from './audit';
import { SignInThrottle } from './sign-in-throttle';
import { signStaffToken, verifyStaffToken } from './staff-token';

export type StaffRole = 'admin' | 'moderator';
export const STAFF_ROLES: readonly StaffRole[] = ['admin', 'moderator'];

export interface StaffRow {
  id: string;
  email: string;
  role: StaffRole;
  createdAt: Date;
  lastSignInAt: Date | null;
}

export interface CreateStaffInput {
  email: string;
  role: string;
  password: string;
}

export const MIN_PASSWORD_LENGTH = 12;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STAFF_COLUMNS = `id, email, role, created_at AS "createdAt", last_sign_in_at AS "lastSignInAt"`;
const INVALID = 'Invalid email or password';

/** Problems with a new account's fields, all at once (the CLI prints them). */
export function staffInputProblems(input: CreateStaffInput): string[] {
  const problems: string[] = [];
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 254) problems.push('email must be a valid email address');
  if (!(STAFF_ROLES as readonly string[]).includes(input.role)) problems.push(`role must be one of ${STAFF_ROLES.join(', ')}`);
  if ([...input.password].length < MIN_PASSWORD_LENGTH) problems.push(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (input.password.length > 1000) problems.push('password must be at most 1000 characters');
  return problems;
}

export class StaffService {
  private readonly throttle: SignInThrottle;
  /** Checked against for unknown emails, so they take as long as a wrong password. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly config: Config['staff'],
  ) {
    this.throttle = new SignInThrottle(db);
  }

  /** Creates an account and its STAFF_CREATED audit entry in one transaction. */
  async create(input: CreateStaffInput, actor: AuditActor): Promise<StaffRow> {
    const problems = staffInputProblems(input);
    if (problems.length) throw badInput(problems.join('; '));
    const email = input.email.trim().toLowerCase();
    const hash = await argon2.hash(input.password, { type: argon2.argon2id });
    try {
      return await this.db.transaction(async (tx) => {
        const [row]: StaffRow[] = await tx.query(
          `INSERT INTO staff_users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING ${STAFF_COLUMNS}`,
          [email, hash, input.role],
        );
        await writeAudit(tx, actor, { action: 'STAFF_CREATED', targetType: 'Staff', targetId: row.id, details: { email, role: row.role } });
        return row;
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw badInput(`A staff account for ${email} exists already`, 'email');
      throw err;
    }
  }

  /** Wrong email and wrong password fail alike; failures are throttled per email and per IP. */
  async signIn(rawEmail: string, password: string, ip: string): Promise<{ token: string; expiresAt: Date; staff: StaffRow }> {
    const email = rawEmail.trim().toLowerCase().slice(0, 254);
    const attempt = await this.throttle.begin(email, ip);
    const [row]: Array<StaffRow & { passwordHash: string; disabledAt: Date | null }> = await this.db.query(
      `SELECT ${STAFF_COLUMNS}, password_hash AS "passwordHash", disabled_at AS "disabledAt" FROM staff_users WHERE email = $1`,
      [email],
    );
    const hash = row?.passwordHash ?? (await this.dummy());
    const valid = password.length <= 1000 && (await argon2.verify(hash, password).catch(() => false));
    if (!row || !valid || row.disabledAt) throw unauthenticated(INVALID);
    await this.throttle.succeeded(attempt);
    const staff = await this.db.transaction(async (tx) => {
      const [updated]: StaffRow[] = await tx.query(
        `WITH u AS (UPDATE staff_users SET last_sign_in_at = now() WHERE id = $1 RETURNING *) SELECT ${STAFF_COLUMNS} FROM u`,
        [row.id],
      );
      await writeAudit(tx, { actorId: row.id, actorEmail: row.email }, { action: 'SIGN_IN', targetType: 'Staff', targetId: row.id, details: { ip } });
      return updated;
    });
    return { ...(await this.issueToken(staff)), staff };
  }

  issueToken(staff: Pick<StaffRow, 'id' | 'role'>): Promise<{ token: string; expiresAt: Date }> {
    return signStaffToken(this.config.jwtSecret, { staffId: staff.id, role: staff.role }, this.config.tokenTtlSeconds);
  }

  /** The staff row behind a token, read now: a disabled, deleted or re-roled account takes effect at once. */
  async authenticate(token: string): Promise<StaffRow> {
    const id = await verifyStaffToken(this.config.jwtSecret, token);
    if (!isUuid(id)) throw unauthenticated('Invalid staff token');
    const [row]: StaffRow[] = await this.db.query(`SELECT ${STAFF_COLUMNS} FROM staff_users WHERE id = $1 AND disabled_at IS NULL`, [id]);
    if (!row) throw unauthenticated('Staff account not found or disabled');
    return row;
  }

  async byId(id: string): Promise<StaffRow | null> {
    if (!isUuid(id)) return null;
    const [row]: StaffRow[] = await this.db.query(`SELECT ${STAFF_COLUMNS} FROM staff_users WHERE id = $1`, [id]);
    return row ?? null;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= argon2.hash('not-a-staff-password', { type: argon2.argon2id });
    return this.dummyHash;
  }
}
