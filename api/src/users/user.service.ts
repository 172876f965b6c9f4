import type { DataSource } from 'typeorm';
import type { Identity } from '../auth/jwt';
import type { Config } from '../config/env';
import { preparedQuery } from '../db/prepared';
import { safetyProfile } from '../domain/safety/safety-profile';
import { badInput, DomainError } from '../errors';
import { validateProfile, ProfileInput } from '../domain/profile';
import { AgeBand, UserEntity } from './user.entity';
import { USER_COLUMNS } from './user.columns';


/** Accounts: the identity provider's claims are authoritative and upserted on every request. */
export class UserService {
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
  ) {}

  /** One round trip as a rule: insert, update only if a claim changed, or read the row as it is. */
  async upsertFromIdentity(id: Identity): Promise<UserEntity> {
    // Every request lands here and claims rarely change: a plain read that finds them
    // unchanged takes no row lock and waits for no WAL flush, unlike INSERT ... ON CONFLICT.
    const [same] = await preparedQuery<UserEntity>(
      this.db,
      'user-by-claims',
      `SELECT ${USER_COLUMNS} FROM users WHERE subject = $1 AND region IS NOT DISTINCT FROM $2 AND plan = $3
          AND age_band IS NOT DISTINCT FROM $4 AND parental_group_chats = $5`,
      [id.subject, id.region, id.plan, id.ageBand, id.parentalGroupChats],
    );
    if (same) return same;
    const rows: Array<UserEntity & { changed: boolean }> = await this.db.query(
      `WITH up AS (
         INSERT INTO users (subject, region, plan, age_band, parental_group_chats) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject) DO UPDATE
           SET region = EXCLUDED.region, plan = EXCLUDED.plan, age_band = EXCLUDED.age_band,
               parental_group_chats = EXCLUDED.parental_group_chats, updated_at = now()
           WHERE (users.region, users.plan, users.age_band, users.parental_group_chats)
                 IS DISTINCT FROM (EXCLUDED.region, EXCLUDED.plan, EXCLUDED.age_band, EXCLUDED.parental_group_chats)
         RETURNING ${USER_COLUMNS})
       SELECT *, true AS changed FROM up
       UNION ALL
       SELECT ${USER_COLUMNS}, false AS changed FROM users WHERE subject = $1 AND NOT EXISTS (SELECT 1 FROM up)`,
      [id.subject, id.region, id.plan, id.ageBand, id.parentalGroupChats],
    );
    if (!rows[0]) {
      // A concurrent first request inserted the row after this statement's snapshot was taken.
      const [row]: UserEntity[] = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE subject = $1`, [id.subject]);
      return row;
    }
    const { changed, ...user } = rows[0];
    if (changed) await this.refreshSafetyProfiles(user.id);
    return user;
  }

  /**
   * A changed age claim changes the safety profile of every group the user is in, like a
   * join or leave would: each group row is locked and its profile recomputed from its members.
   */
  private async refreshSafetyProfiles(userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const groups: Array<{ id: string }> = await tx.query(
        `SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.id
          WHERE m.user_id = $1 AND g.closed_at IS NULL ORDER BY g.id FOR UPDATE OF g`,
        [userId],
      );
      if (groups.length === 0) return;
      const members: Array<{ groupId: string; ageBand: AgeBand | null }> = await tx.query(
        `SELECT m.group_id AS "groupId", u.age_band AS "ageBand" FROM group_members m JOIN users u ON u.id = m.user_id
          WHERE m.group_id = ANY($1::uuid[])`,
        [groups.map((g) => g.id)],
      );
      for (const { id } of groups) {
        const profile = safetyProfile(members.filter((m) => m.groupId === id), this.config.unknownAgeIsMinor);
        await tx.query(`UPDATE groups SET safety_profile = $2 WHERE id = $1 AND safety_profile <> $2`, [id, profile]);
      }
    });
  }

  async upsertProfile(user: UserEntity, input: ProfileInput): Promise<UserEntity> {
    const problems = validateProfile(input, { aiName: this.config.aiName });
    if (problems.length > 0) throw badInput(problems.map((p) => p.message).join('; '), problems[0].field);
    try {
      const rows: UserEntity[] = await this.db.query(
        // Wrapped in a CTE: TypeORM returns [rows, count] for a bare UPDATE.
        `WITH u AS (UPDATE users SET display_name = $2, username = $3, photo_url = $4, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS})
         SELECT * FROM u`,
        // The URL parser accepted it as https; store its canonical form (the column requires a literal "https://").
        [user.id, input.displayName.trim(), input.username, new URL(input.photoUrl).href],
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
