/**
 * Groups and membership (docs/product.md §2). Every change that others must see appends an
 * event in its unit of work (db/unit-of-work.ts), which publishes it after commit. The member limit holds
 * under concurrency because every membership change locks the group row first.
 */
import { DataSource, EntityManager, In } from 'typeorm';
import type { Config } from '../config/env';
import { assertCanJoinGroups, assertCanWrite } from '../users/user.policy';
import { safetyProfile } from '../domain/safety/safety-profile';
import { badInput, DomainError, forbidden, notFound } from '../errors';
import { transcriptForCopy } from '../conversations/conversation-transcript';
import { unitOfWork, UnitOfWork } from '../db/unit-of-work';
import type { EventPublisher } from '../events/event-publisher';
import { GroupEventKind } from '../events/group-event.type';
import type { RolloutService } from '../rollout/rollout.service';
import { hasPublicProfile, UserEntity } from '../users/user.entity';
import { copyTranscriptIntoGroup } from './copy-conversation';
import { GroupEntity } from './group.entity';
import { isUuid, requireMembership } from './group.policy';
import { validateGroupSettings, GroupSettingsInput } from './group-settings';

export interface CreateGroupInput {
  title: string;
  memberUsernames?: string[] | null;
  fromConversationId?: string | null;
}

export interface Page<T> {
  items: Array<{ node: T; cursor: string }>;
  hasMore: boolean;
}

export class GroupService {
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly events: EventPublisher,
    private readonly rollout: RolloutService,
  ) {}

  async create(user: UserEntity, input: CreateGroupInput): Promise<GroupEntity> {
    await this.rollout.check(user, 'group_chats');
    assertCanJoinGroups(user);
    const problems = validateGroupSettings({ title: input.title });
    if (problems.length) throw badInput(problems.join('; '), 'title');
    const usernames = [...new Set((input.memberUsernames ?? []).map((u) => u.trim().toLowerCase()))].filter((u) => u !== user.username);
    if (1 + usernames.length > this.config.maxGroupMembers) {
      throw new DomainError('GROUP_FULL', `A group has at most ${this.config.maxGroupMembers} members`);
    }
    const group = await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      // A conversation that is not the caller's is NOT_FOUND, and nothing is created.
      const transcript = input.fromConversationId ? await transcriptForCopy(tx, input.fromConversationId, user.id) : [];
      const invitees = await this.resolveInvitees(tx, usernames);
      const members = [user, ...invitees];
      const [group]: GroupEntity[] = await tx.query(
        `INSERT INTO groups (title, owner_id, member_count, safety_profile, source_conversation_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [input.title.trim(), user.id, members.length, safetyProfile(members, this.config.unknownAgeIsMinor), input.fromConversationId ?? null],
      );
      // The copied history comes first, as seqs 1..n, so it reads as what led to the group.
      uow.record(await copyTranscriptIntoGroup(tx, group.id, user.id, transcript));
      for (const [i, m] of members.entries()) {
        await this.insertMember(uow, group.id, m.id, i === 0 ? 'OWNER' : 'MEMBER', user.id);
      }
      // The creator has read the copied history already; the people they add have not.
      if (transcript.length > 0) {
        await tx.query(`UPDATE group_members SET last_read_seq = $3 WHERE group_id = $1 AND user_id = $2`, [group.id, user.id, transcript.length]);
      }
      return group;
    });
    return this.getForMember(user, group.id);
  }

  async update(user: UserEntity, groupId: string, input: GroupSettingsInput): Promise<GroupEntity> {
    assertCanWrite(user);
    const problems = validateGroupSettings(input);
    if (problems.length) throw badInput(problems.join('; '));
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      await requireMembership(tx, groupId, user.id, true);
      await tx.query(
        `UPDATE groups SET title = coalesce($2, title), custom_instructions = coalesce($3, custom_instructions),
                ai_mode = coalesce($4, ai_mode), updated_at = now() WHERE id = $1`,
        [groupId, input.title?.trim() ?? null, input.customInstructions ?? null, input.aiMode ?? null],
      );
      await uow.append({ groupId, type: GroupEventKind.GROUP_UPDATED, actorId: user.id, data: { changed: Object.keys(input) } });
    });
    return this.getForMember(user, groupId);
  }

  async addMembers(user: UserEntity, groupId: string, usernames: string[]): Promise<GroupEntity> {
    assertCanWrite(user);
    const wanted = [...new Set(usernames.map((u) => u.trim().toLowerCase()))];
    if (wanted.length === 0) throw badInput('usernames must not be empty', 'usernames');
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      await requireMembership(tx, groupId, user.id, true);
      const invitees = await this.resolveInvitees(tx, wanted);
      const existing: Array<{ userId: string }> = await tx.query(
        `SELECT user_id AS "userId" FROM group_members WHERE group_id = $1 AND user_id = ANY($2::uuid[])`,
        [groupId, invitees.map((i) => i.id)],
      );
      const already = new Set(existing.map((e) => e.userId));
      const fresh = invitees.filter((i) => !already.has(i.id));
      if (fresh.length > 0) await this.admit(uow, groupId, fresh, user.id);
    });
    return this.getForMember(user, groupId);
  }

  /**
   * Admits users into a group whose row the caller has locked: checks the limit, inserts
   * the members, updates the count and safety profile, and appends MEMBER_JOINED events
   * to the caller's unit of work.
   */
  async admit(uow: UnitOfWork, groupId: string, users: UserEntity[], actorId: string): Promise<void> {
    const [{ memberCount }]: Array<{ memberCount: number }> = await uow.tx.query(`SELECT member_count AS "memberCount" FROM groups WHERE id = $1`, [groupId]);
    if (memberCount + users.length > this.config.maxGroupMembers) {
      throw new DomainError('GROUP_FULL', `This group already has ${memberCount} of ${this.config.maxGroupMembers} members`);
    }
    for (const u of users) await this.insertMember(uow, groupId, u.id, 'MEMBER', actorId);
    await this.refreshCounts(uow.tx, groupId);
  }

  async removeMember(user: UserEntity, groupId: string, targetId: string): Promise<GroupEntity> {
    assertCanWrite(user);
    if (targetId === user.id) throw badInput('Use leaveGroup to leave a group', 'userId');
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      await requireMembership(tx, groupId, user.id, true);
      const target: Array<{ role: string; joinedAt: Date }> = isUuid(targetId)
        ? await tx.query(`SELECT role, joined_at AS "joinedAt" FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, targetId])
        : [];
      if (target.length === 0) throw notFound('Member');
      if (target[0].role === 'OWNER') throw forbidden('The owner cannot be removed; the owner can only leave');
      await tx.query(`DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, targetId]);
      await this.refreshCounts(tx, groupId);
      await uow.append({
        groupId,
        type: GroupEventKind.MEMBER_REMOVED,
        subjectUserId: targetId,
        actorId: user.id,
        data: { role: target[0].role, joinedAt: target[0].joinedAt },
      });
    });
    return this.getForMember(user, groupId);
  }

  /** Leaving hands ownership to the longest-standing member; the last one out closes the group. */
  async leave(user: UserEntity, groupId: string): Promise<boolean> {
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      const { membership } = await requireMembership(tx, groupId, user.id, true);
      await tx.query(`DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, user.id]);
      const remaining = await this.refreshCounts(tx, groupId);
      await uow.append({
        groupId,
        type: GroupEventKind.MEMBER_LEFT,
        subjectUserId: user.id,
        actorId: user.id,
        data: { role: membership.role, joinedAt: membership.joinedAt },
      });
      if (remaining === 0) {
        await tx.query(`UPDATE groups SET closed_at = now(), owner_id = NULL WHERE id = $1`, [groupId]);
        await tx.query(`UPDATE invites SET revoked_at = now() WHERE group_id = $1 AND revoked_at IS NULL`, [groupId]);
        await uow.append({ groupId, type: GroupEventKind.GROUP_CLOSED, actorId: user.id });
      } else if (membership.role === 'OWNER') {
        const [heir]: Array<{ userId: string }> = await tx.query(
          `SELECT user_id AS "userId" FROM group_members WHERE group_id = $1 ORDER BY joined_at, user_id LIMIT 1`,
          [groupId],
        );
        await this.setOwner(uow, groupId, heir.userId, null);
      }
    });
    return true;
  }

  async transferOwnership(user: UserEntity, groupId: string, newOwnerId: string): Promise<GroupEntity> {
    assertCanWrite(user);
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      const { membership } = await requireMembership(tx, groupId, user.id, true);
      if (membership.role !== 'OWNER') throw forbidden('Only the owner can hand over the group');
      if (newOwnerId === user.id) throw badInput('You already own this group', 'userId');
      const target = isUuid(newOwnerId)
        ? await tx.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [groupId, newOwnerId])
        : [];
      if (target.length === 0) throw notFound('Member');
      await this.setOwner(uow, groupId, newOwnerId, user.id);
    });
    return this.getForMember(user, groupId);
  }

  async mute(user: UserEntity, groupId: string, until: Date | null, forever: boolean): Promise<void> {
    if (until && until.getTime() <= Date.now()) throw badInput('until must be in the future', 'until');
    await requireMembership(this.db.manager, groupId, user.id);
    const value = forever ? 'infinity' : until ? until.toISOString() : null;
    await this.db.query(`UPDATE group_members SET muted_until = $3 WHERE group_id = $1 AND user_id = $2`, [groupId, user.id, value]);
  }

  async getForMember(user: UserEntity, groupId: string): Promise<GroupEntity> {
    await requireMembership(this.db.manager, groupId, user.id);
    const group = await this.db.manager.findOneBy(GroupEntity, { id: groupId });
    if (!group) throw notFound('Group');
    return group;
  }

  /** The caller's groups, most recently active first; `after` is an opaque cursor. */
  async listForUser(user: UserEntity, first: number, after: string | null): Promise<Page<GroupEntity>> {
    const cursor = after ? decodeCursor(after) : null;
    // The cursor keeps PostgreSQL's microsecond timestamp as text: a JS Date would round it.
    const ids: Array<{ id: string; at: string }> = await this.db.query(
      `SELECT g.id, g.last_event_at::text AS at FROM groups g JOIN group_members m ON m.group_id = g.id AND m.user_id = $1
        WHERE g.closed_at IS NULL AND ($2::timestamptz IS NULL OR (g.last_event_at, g.id) < ($2::timestamptz, $3::uuid))
        ORDER BY g.last_event_at DESC, g.id DESC LIMIT $4`,
      [user.id, cursor?.at ?? null, cursor?.id ?? null, first + 1],
    );
    const page = ids.slice(0, first);
    const groups = page.length ? await this.db.manager.getRepository(GroupEntity).findBy({ id: In(page.map((p) => p.id)) }) : [];
    const byId = new Map(groups.map((g) => [g.id, g]));
    return {
      items: page.flatMap((p) => (byId.has(p.id) ? [{ node: byId.get(p.id)!, cursor: encodeCursor(p.at, p.id) }] : [])),
      hasMore: ids.length > first,
    };
  }

  private async insertMember(uow: UnitOfWork, groupId: string, userId: string, role: 'OWNER' | 'MEMBER', actorId: string): Promise<void> {
    const [m]: Array<{ joinedAt: Date }> = await uow.tx.query(
      `INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, $3) RETURNING joined_at AS "joinedAt"`,
      [groupId, userId, role],
    );
    await uow.append({ groupId, type: GroupEventKind.MEMBER_JOINED, subjectUserId: userId, actorId, data: { role, joinedAt: m.joinedAt } });
  }

  private async setOwner(uow: UnitOfWork, groupId: string, newOwnerId: string, actorId: string | null): Promise<void> {
    const { tx } = uow;
    await tx.query(`UPDATE group_members SET role = 'MEMBER' WHERE group_id = $1 AND role = 'OWNER'`, [groupId]);
    await tx.query(`UPDATE group_members SET role = 'OWNER' WHERE group_id = $1 AND user_id = $2`, [groupId, newOwnerId]);
    await tx.query(`UPDATE groups SET owner_id = $2, updated_at = now() WHERE id = $1`, [groupId, newOwnerId]);
    await uow.append({ groupId, type: GroupEventKind.GROUP_UPDATED, actorId, subjectUserId: newOwnerId, data: { changed: ['owner'] } });
  }

  /** Recomputes member_count and the safety profile in the membership transaction. */
  private async refreshCounts(tx: EntityManager, groupId: string): Promise<number> {
    const members: Array<{ ageBand: 'adult' | 'minor' | null }> = await tx.query(
      `SELECT u.age_band AS "ageBand" FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1`,
      [groupId],
    );
    await tx.query(`UPDATE groups SET member_count = $2, safety_profile = $3 WHERE id = $1`, [
      groupId,
      members.length,
      safetyProfile(members, this.config.unknownAgeIsMinor),
    ]);
    return members.length;
  }

  private async resolveInvitees(tx: EntityManager, usernames: string[]): Promise<UserEntity[]> {
    if (usernames.length === 0) return [];
    const users: UserEntity[] = await tx.query(
      `SELECT id, username, display_name AS "displayName", age_band AS "ageBand", parental_group_chats AS "parentalGroupChats",
              suspended_at AS "suspendedAt", region, plan
         FROM users WHERE username = ANY($1::text[])`,
      [usernames],
    );
    const found = new Set(users.map((u) => u.username));
    const missing = usernames.filter((u) => !found.has(u));
    if (missing.length) throw new DomainError('BAD_USER_INPUT', `Unknown usernames: ${missing.join(', ')}`, { field: 'usernames', usernames: missing });
    const allowed = await this.rollout.allowsEach(users, 'group_chats', { db: tx });
    // Nobody outside the group chats rollout is pulled into a group they could not join themselves.
    const outside = new Set(users.filter((_, i) => !allowed[i]).map((u) => u.id));
    const blocked = users.filter((u) => !hasPublicProfile(u) || (u.ageBand === 'minor' && !u.parentalGroupChats) || u.suspendedAt !== null || outside.has(u.id));
    if (blocked.length) throw forbidden(`These people cannot be added to group chats: ${blocked.map((u) => u.username).join(', ')}`);
    return users;
  }
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof at === 'string' && /^\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}(:?\d{2})?|Z)?$/.test(at) && isUuid(id)) return { at, id };
  } catch {
    /* fall through */
  }
  throw badInput('Invalid cursor', 'after');
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}
