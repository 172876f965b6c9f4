/**
 * Invite links (docs/product.md §2). Joining locks the group row before the invite is
 * checked, so the last use of an invite and the last seat of a group each go to
 * exactly one of many concurrent joiners.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../config/env';
import { assertCanJoinGroups, assertCanWrite } from '../users/user.policy';
import { unitOfWork } from '../db/unit-of-work';
import { badInput, DomainError } from '../errors';
import type { EventPublisher } from '../events/event-publisher';
import type { GroupEntity } from '../groups/group.entity';
import { requireMembership } from '../groups/group.policy';
import type { GroupService } from '../groups/group.service';
import type { RolloutService } from '../rollout/rollout.service';
import { toUserView } from '../users/user.type';
import type { UserEntity } from '../users/user.entity';
import { InviteEntity } from './invite.entity';
import { hashInviteToken, looksLikeInviteToken, newInviteToken } from './invite-token';
import type { InvitePreviewType, InviteType } from './invite.type';

export interface CreateInviteInput {
  expiresAt?: Date | null;
  maxUses?: number | null;
}

const invalid = () => new DomainError('INVITE_INVALID', 'This invite link is invalid, expired or used up');

const INVITE_COLUMNS = `id, group_id AS "groupId", token_hash AS "tokenHash", created_by AS "createdBy", expires_at AS "expiresAt",
  max_uses AS "maxUses", uses, revoked_at AS "revokedAt", created_at AS "createdAt"`;

export class InviteService {
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly groups: GroupService,
    private readonly events: EventPublisher,
    private readonly rollout: RolloutService,
  ) {}

  async create(user: UserEntity, groupId: string, input: CreateInviteInput): Promise<InviteType> {
    assertCanWrite(user);
    this.validate(input);
    await requireMembership(this.db.manager, groupId, user.id);
    return this.insert(this.db.manager, user, groupId, input);
  }

  /** Revokes every earlier token of the group and returns a fresh one. */
  async reset(user: UserEntity, groupId: string, input: CreateInviteInput = {}): Promise<InviteType> {
    assertCanWrite(user);
    this.validate(input);
    return this.db.transaction(async (tx) => {
      await requireMembership(tx, groupId, user.id, true);
      await tx.query(`UPDATE invites SET revoked_at = now() WHERE group_id = $1 AND revoked_at IS NULL`, [groupId]);
      return this.insert(tx, user, groupId, input);
    });
  }

  async preview(user: UserEntity, token: string): Promise<InvitePreviewType> {
    const invite = await this.findUsable(token);
    const [group]: Array<{ title: string; memberCount: number }> = await this.db.query(
      `SELECT title, member_count AS "memberCount" FROM groups WHERE id = $1`,
      [invite.groupId],
    );
    const members: UserEntity[] = await this.db.query(
      `SELECT u.id, u.username, u.display_name AS "displayName", u.photo_url AS "photoUrl"
         FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY m.joined_at, m.user_id LIMIT 5`,
      [invite.groupId],
    );
    const mine = await this.db.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [invite.groupId, user.id]);
    return {
      groupId: invite.groupId,
      title: group.title,
      memberCount: group.memberCount,
      members: members.map(toUserView),
      expiresAt: invite.expiresAt,
      alreadyMember: mine.length > 0,
    };
  }

  async join(user: UserEntity, token: string): Promise<GroupEntity> {
    await this.rollout.check(user, 'group_chats');
    assertCanJoinGroups(user);
    // Uses are checked last, under the lock: an existing member's join (a retry) consumes none.
    const { groupId } = await this.findUsable(token, { ignoreUses: true });
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      const locked = await tx.query(`SELECT 1 FROM groups WHERE id = $1 AND closed_at IS NULL FOR UPDATE`, [groupId]);
      if (locked.length === 0) throw invalid();
      const [invite]: InviteEntity[] = await tx.query(`SELECT ${INVITE_COLUMNS} FROM invites WHERE token_hash = $1 FOR UPDATE`, [hashInviteToken(token)]);
      if (!invite || !usable(invite, new Date(), { ignoreUses: true })) throw invalid();
      const already = await tx.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, user.id]);
      if (already.length > 0) return;
      if (!usable(invite, new Date())) throw invalid();
      await this.groups.admit(uow, groupId, [user], user.id);
      await tx.query(`UPDATE invites SET uses = uses + 1 WHERE id = $1`, [invite.id]);
    });
    return this.groups.getForMember(user, groupId);
  }

  private async findUsable(token: string, options: { ignoreUses?: boolean } = {}): Promise<InviteEntity> {
    if (!looksLikeInviteToken(token)) throw invalid();
    const [invite]: InviteEntity[] = await this.db.query(
      `SELECT ${INVITE_COLUMNS} FROM invites
        WHERE token_hash = $1 AND group_id IN (SELECT id FROM groups WHERE closed_at IS NULL)`,
      [hashInviteToken(token)],
    );
    if (!invite || !usable(invite, new Date(), options)) throw invalid();
    return invite;
  }

  private validate(input: CreateInviteInput): void {
    if (input.maxUses !== undefined && input.maxUses !== null && (input.maxUses < 1 || input.maxUses > 10_000)) {
      throw badInput('maxUses must be from 1 to 10000', 'maxUses');
    }
    if (input.expiresAt) {
      const ms = input.expiresAt.getTime() - Date.now();
      if (ms <= 0) throw badInput('expiresAt must be in the future', 'expiresAt');
      if (ms > this.config.inviteMaxTtlHours * 3_600_000) throw badInput(`expiresAt must be within ${this.config.inviteMaxTtlHours} hours`, 'expiresAt');
    }
  }

  private async insert(db: EntityManager, user: UserEntity, groupId: string, input: CreateInviteInput): Promise<InviteType> {
    const { token, hash } = newInviteToken();
    const [row]: InviteEntity[] = await db.query(
      `INSERT INTO invites (group_id, token_hash, created_by, expires_at, max_uses) VALUES ($1, $2, $3, $4, $5) RETURNING ${INVITE_COLUMNS}`,
      [groupId, hash, user.id, input.expiresAt ?? null, input.maxUses ?? null],
    );
    return toInviteView(row, token);
  }
}

function usable(i: InviteEntity, now: Date, { ignoreUses = false } = {}): boolean {
  if (i.revokedAt) return false;
  if (i.expiresAt && i.expiresAt.getTime() <= now.getTime()) return false;
  if (!ignoreUses && i.maxUses !== null && i.uses >= i.maxUses) return false;
  return true;
}

export function toInviteView(i: InviteEntity, token: string | null = null): InviteType {
  return {
    id: i.id,
    groupId: i.groupId,
    token,
    expiresAt: i.expiresAt,
    maxUses: i.maxUses,
    uses: i.uses,
    revoked: i.revokedAt !== null,
    createdAt: i.createdAt,
  };
}
