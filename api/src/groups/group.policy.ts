/**
 * Record-level access to groups. A non-member gets NOT_FOUND exactly as for an id that
 * does not exist, so hidden groups cannot be told from missing ones.
 */
import type { EntityManager } from 'typeorm';
import { notFound } from '../errors';
import { GroupMemberEntity } from './group-member.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

export interface MembershipCheck {
  membership: GroupMemberEntity;
  /** The group's last seq in the same snapshot as the membership. */
  lastSeq: number;
}

/** The caller's membership, or NOT_FOUND. With `lock`, the group row is locked first. */
export async function requireMembership(db: EntityManager, groupId: string, userId: string, lock = false): Promise<MembershipCheck> {
  if (!isUuid(groupId)) throw notFound('Group');
  if (lock) await db.query(`SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, [groupId]);
  const rows: Array<GroupMemberEntity & { lastSeq: number }> = await db.query(
    `SELECT m.group_id AS "groupId", m.user_id AS "userId", m.role, m.joined_at AS "joinedAt", m.muted_until AS "mutedUntil",
            m.last_read_seq::int AS "lastReadSeq", g.last_seq::int AS "lastSeq"
       FROM group_members m JOIN groups g ON g.id = m.group_id
      WHERE m.group_id = $1 AND m.user_id = $2 AND g.closed_at IS NULL`,
    [groupId, userId],
  );
  if (rows.length === 0) throw notFound('Group');
  const { lastSeq, ...membership } = rows[0];
  return { membership, lastSeq };
}
