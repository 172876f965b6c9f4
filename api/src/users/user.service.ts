import type { DataSource } from 'typeorm';
import type { Identity } from '../auth/jwt';
import { badInput, DomainError } from '../errors';
import { validateProfile, ProfileInput } from '../domain/profile';
import { UserEntity } from './user.entity';

const USER_COLUMNS = `id, subject, region, plan, age_band AS "ageBand", parental_group_chats AS "parentalGroupChats",
  display_name AS "displayName", username, photo_url AS "photoUrl", suspended_at AS "suspendedAt",
  suspended_reason AS "suspendedReason", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Accounts: the identity provider's claims are authoritative and upserted on every request. */
export class UserService {
  constructor(private readonly db: DataSource) {}

  /** One round trip: insert, update only if a claim changed, or read the row as it is. */
  async upsertFromIdentity(id: Identity): Promise<UserEntity> {
    const rows: UserEntity[] = await this.db.query(
      `WITH up AS (
         INSERT INTO users (subject, region, plan, age_band, parental_group_chats) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject) DO UPDATE
           SET region = EXCLUDED.region, plan = EXCLUDED.plan, age_band = EXCLUDED.age_band,
               parental_group_chats = EXCLUDED.parental_group_chats, updated_at = now()
           WHERE (users.region, users.plan, users.age_band, users.parental_group_chats)
                 IS DISTINCT FROM (EXCLUDED.region, EXCLUDED.plan, EXCLUDED.age_band, EXCLUDED.parental_group_chats)
         RETURNING ${USER_COLUMNS})
       SELECT * FROM up
       UNION ALL
       SELECT ${USER_COLUMNS} FROM users WHERE subject = $1 AND NOT EXISTS (SELECT 1 FROM up)`,
      [id.subject, id.region, id.plan, id.ageBand, id.parentalGroupChats],
    );
    return rows[0];
  }

  async upsertProfile(user: UserEntity, input: ProfileInput): Promise<UserEntity> {
    const problems = validateProfile(input);
    if (problems.length > 0) throw badInput(problems.map((p) => p.message).join('; '), problems[0].field);
    try {
      const rows: UserEntity[] = await this.db.query(
        // Wrapped in a CTE: TypeORM returns [rows, count] for a bare UPDATE.
        `WITH u AS (UPDATE users SET display_name = $2, username = $3, photo_url = $4, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS})
         SELECT * FROM u`,
        [user.id, input.displayName.trim(), input.username, input.photoUrl],
      );
      return rows[0];
    } catch (err) {
      if ((err as { code?: string; constraint?: string }).code === '23505') {
        throw new DomainError('BAD_USER_INPUT', 'That username is taken', { field: 'username', reason: 'USERNAME_TAKEN' });
      }
      throw err;
    }
  }
}
