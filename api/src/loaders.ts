/** Per-request batching: one query per field across a whole list of groups. */
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { GroupMemberType, MembershipType } from './groups/group.type';
import { MemberRoleEnum } from './groups/group.type';
import { toUserView } from './users/user.type';
import type { ModelResponseType } from './ai/ai.types';

export interface Loaders {
  /** The ModelResponse behind each AI message. */
  modelResponse: DataLoader<string, ModelResponseType | null>;
  members: DataLoader<string, GroupMemberType[]>;
  /** The viewer's own membership in each group. */
  myMembership: DataLoader<string, MembershipType | null>;
}

/**
 * A context's loaders, each made on first use: most operations touch none of them, and a
 * subscription's context lives as long as its socket (its events get loaders of their own).
 */
class LazyLoaders implements Loaders {
  private modelResponseLoader?: Loaders['modelResponse'];
  private membersLoader?: Loaders['members'];
  private myMembershipLoader?: Loaders['myMembership'];

  constructor(
    private readonly db: DataSource,
    private readonly viewerId: string | null,
  ) {}

  get modelResponse(): Loaders['modelResponse'] {
    return (this.modelResponseLoader ??= new DataLoader((ids) => loadModelResponses(this.db, ids)));
  }

  get members(): Loaders['members'] {
    return (this.membersLoader ??= new DataLoader((ids) => loadMembers(this.db, ids)));
  }

  get myMembership(): Loaders['myMembership'] {
    return (this.myMembershipLoader ??= new DataLoader((ids) => loadMyMemberships(this.db, this.viewerId, ids)));
  }
}

export function createLoaders(db: DataSource, viewerId: string | null): Loaders {
  return new LazyLoaders(db, viewerId);
}

const loadModelResponses = async (db: DataSource, messageIds: readonly string[]): Promise<Array<ModelResponseType | null>> => {
  const rows: Array<ModelResponseType & { messageId: string; userId: string; username: string; displayName: string; photoUrl: string }> = await db.query(
    `SELECT r.message_id AS "messageId", r.id, r.model, r.tier, r.route_reason AS "routeReason", r.charged, r.prompt_tokens AS "promptTokens",
            r.completion_tokens AS "completionTokens", r.latency_ms AS "latencyMs", r.status, r.created_at AS "createdAt", r.context,
            u.id AS "userId", u.username, u.display_name AS "displayName", u.photo_url AS "photoUrl"
       FROM model_responses r JOIN users u ON u.id = r.charged_user_id WHERE r.message_id = ANY($1::uuid[])`,
    [messageIds],
  );
  const byMessage = new Map(
    rows.map(({ messageId, userId, username, displayName, photoUrl, ...r }) => [
      messageId,
      { ...r, chargedUser: toUserView({ id: userId, username, displayName, photoUrl }) },
    ]),
  );
  return messageIds.map((id) => byMessage.get(id) ?? null);
};

const loadMembers = async (db: DataSource, groupIds: readonly string[]): Promise<GroupMemberType[][]> => {
  const rows: Array<{ groupId: string; id: string; username: string; displayName: string; photoUrl: string; role: MemberRoleEnum; joinedAt: Date }> =
    await db.query(
      `SELECT m.group_id AS "groupId", u.id, u.username, u.display_name AS "displayName", u.photo_url AS "photoUrl", m.role, m.joined_at AS "joinedAt"
         FROM group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = ANY($1::uuid[]) ORDER BY m.joined_at, m.user_id`,
      [groupIds],
    );
  const byGroup = new Map<string, GroupMemberType[]>();
  for (const r of rows) {
    const list = byGroup.get(r.groupId) ?? [];
    list.push({ user: toUserView(r), role: r.role, joinedAt: r.joinedAt });
    byGroup.set(r.groupId, list);
  }
  return groupIds.map((id) => byGroup.get(id) ?? []);
};

const loadMyMemberships = async (db: DataSource, viewerId: string | null, groupIds: readonly string[]): Promise<Array<MembershipType | null>> => {
  if (!viewerId) return groupIds.map(() => null);
  const rows: Array<MembershipType & { groupId: string; until: Date | null; forever: boolean }> = await db.query(
    `SELECT m.group_id AS "groupId", m.role, m.joined_at AS "joinedAt", m.muted_until = 'infinity' AS forever,
            CASE WHEN m.muted_until = 'infinity' THEN NULL ELSE m.muted_until END AS until,
            m.last_read_seq::int AS "lastReadSeq",
            (SELECT count(*)::int FROM messages x
              WHERE x.group_id = m.group_id AND x.seq > m.last_read_seq AND x.author_id IS DISTINCT FROM m.user_id
                AND x.status <> 'DELETED') AS "unreadCount"
       FROM group_members m WHERE m.group_id = ANY($1::uuid[]) AND m.user_id = $2`,
    [groupIds, viewerId],
  );
  const now = Date.now();
  const byGroup = new Map(
    rows.map(({ groupId, until, forever, ...m }) => {
      const muted = forever === true || (until !== null && until.getTime() > now);
      return [groupId, { ...m, groupId, muted, mutedUntil: muted && until ? until : null }];
    }),
  );
  return groupIds.map((id) => byGroup.get(id) ?? null);
};
