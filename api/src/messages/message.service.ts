/**
 * Messages (docs/product.md §3): editing, deleting, reactions, read positions, reports, typing
 * and history. Sending is MessageSender's (one SQL statement, see send-statement.ts).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../config/env';
import { assertCanWrite } from '../users/user.policy';
import { parseMentions } from '../domain/mentions/parse-mentions';
import { badInput, DomainError, notFound } from '../errors';
import { unitOfWork, UnitOfWork } from '../db/unit-of-work';
import type { EventPublisher } from '../events/event-publisher';
import { ephemeralEvent, GroupEventKind } from '../events/group-event.type';
import { isUuid, requireMembership } from '../groups/group.policy';
import type { Metrics } from '../ops/metrics';
import { toUserView } from '../users/user.type';
import type { UserEntity } from '../users/user.entity';
import type { MessageEntity } from './message.entity';
import { fileUserReport } from '../moderation/safety-case.service';
import type { MessageType } from './message.type';
import { buildMessageViews, loadMessageViews, ReactionRow } from './message.views';
import { MESSAGE_COLUMNS } from './send-statement';
import { hasNul, MessageSender, SendMessageInput, validMessageBody } from './message-sender';
import type { Processors } from '../processors/processors';
import type { SendRateLimit } from './send-rate-limit';
import type { Identity } from '../auth/jwt';


export interface HistoryPage {
  messages: MessageType[];
  hasOlder: boolean;
  hasNewer: boolean;
}

const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[\u200d\ufe0f\u20e3#*0-9]|\p{Emoji_Modifier})+$/u;
/** Digits, `#` and `*` only count as part of a keycap, never on their own. */
const EMOJI_PICTURE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const isSingleEmoji = (s: string) => s.length <= 32 && EMOJI.test(s) && EMOJI_PICTURE.test(s) && [...graphemes.segment(s)].length === 1;

export class MessageService {
  private readonly sender: MessageSender;

  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly events: EventPublisher,
    metrics: Metrics,
    rateLimit: SendRateLimit,
    /** Told of sent and edited messages once committed (moderation after delivery listens). */
    private readonly processors: Processors,
    /** How long an `ai.respond` job waits for any worker (see MessageSender). */
    aiJobDelayMs = 0,
  ) {
    this.sender = new MessageSender(db, config, events, metrics, rateLimit, processors, aiJobDelayMs);
  }

  /** Sends as a user whose row the request has read. */
  send(user: UserEntity, input: SendMessageInput): Promise<MessageType> {
    return this.sender.send(user, input);
  }

  /** Sends for a request that has not read its user (see MessageSender.sendByClaims). */
  sendByClaims(identity: Identity, input: SendMessageInput, loadUser: () => Promise<UserEntity>): Promise<{ message: MessageType; author: UserEntity }> {
    return this.sender.sendByClaims(identity, input, loadUser);
  }

  async edit(user: UserEntity, messageId: string, rawBody: string): Promise<MessageType> {
    assertCanWrite(user);
    const body = validMessageBody(rawBody, this.config.maxMessageLength);
    const mentions = parseMentions(body, this.config.aiName);
    const message = await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      const message = await this.ownMessage(tx, user, messageId);
      await tx.query(
        `UPDATE messages SET body = $2, edited_at = now(), mentions_ai = $4,
                mention_user_ids = coalesce((SELECT array_agg(u.id ORDER BY array_position($3::text[], u.username))
                  FROM users u JOIN group_members gm ON gm.user_id = u.id AND gm.group_id = messages.group_id
                 WHERE u.username = ANY($3::text[])), '{}')
          WHERE id = $1`,
        [messageId, body, mentions.usernames, mentions.mentionsAi],
      );
      // The new text is moderated after delivery like a new message (moderation/after-delivery.processor.ts).
      await tx.query(
        `INSERT INTO moderation_pending (message_id) VALUES ($1) ON CONFLICT (message_id) DO UPDATE SET rev = moderation_pending.rev + 1, queued_at = now()`,
        [messageId],
      );
      await uow.append({ groupId: message.groupId, type: GroupEventKind.MESSAGE_UPDATED, messageId, actorId: user.id });
      return message;
    });
    const edited = await this.view(message.id);
    this.processors.emit({ name: 'messages.edited', message: edited, author: user });
    return edited;
  }

  /** Deleting leaves a tombstone: the row and its seq stay, the text and reactions go. */
  async delete(user: UserEntity, messageId: string): Promise<MessageType> {
    assertCanWrite(user);
    const message = await unitOfWork(this.db, this.events, async (uow) => {
      const message = await this.ownMessage(uow.tx, user, messageId);
      await this.tombstone(uow, message, user.id);
      return message;
    });
    return this.view(message.id);
  }

  /**
   * Staff removal (a safety decision): the same tombstone as `delete`, for any message
   * kind and without the author check, in the caller's unit of work so the decision and
   * its audit entry commit with it and members see the removal after that commit. False
   * when the message was already deleted.
   */
  async removeByStaff(uow: UnitOfWork, messageId: string): Promise<boolean> {
    const { tx } = uow;
    // The group row first, as `delete` locks it: a member deleting the same message at once then
    // waits (or is waited for) and the status read below is current, so only one tombstone is made.
    await tx.query(`SELECT 1 FROM groups WHERE id = (SELECT group_id FROM messages WHERE id = $1) FOR UPDATE`, [messageId]);
    const [message]: MessageEntity[] = await tx.query(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`, [messageId]);
    if (!message) throw notFound('Message');
    if (message.status === 'DELETED') return false;
    await this.tombstone(uow, message, null);
    return true;
  }

  /**
   * Staff dismissed the case of a message moderation hid for review: members see it
   * again (MESSAGE_UPDATED). In the caller's unit of work, like `removeByStaff`; false
   * when the message is not hidden for review.
   */
  async restoreByStaff(uow: UnitOfWork, messageId: string): Promise<boolean> {
    const { tx } = uow;
    await tx.query(`SELECT 1 FROM groups WHERE id = (SELECT group_id FROM messages WHERE id = $1) FOR UPDATE`, [messageId]);
    const [restored]: Array<{ groupId: string }> = await tx.query(
      `WITH r AS (UPDATE messages SET status = 'SENT', status_reason = NULL WHERE id = $1 AND status = 'HIDDEN' AND status_reason = 'UNDER_REVIEW'
                  RETURNING group_id AS "groupId")
       SELECT * FROM r`,
      [messageId],
    );
    if (!restored) return false;
    await uow.append({ groupId: restored.groupId, type: GroupEventKind.MESSAGE_UPDATED, messageId });
    return true;
  }

  private async tombstone(uow: UnitOfWork, message: MessageEntity, actorId: string | null): Promise<void> {
    const { tx } = uow;
    await tx.query(
      `UPDATE messages SET body = '', status = 'DELETED', deleted_at = now(), mention_user_ids = '{}', mentions_ai = false WHERE id = $1`,
      [message.id],
    );
    await tx.query(`DELETE FROM reactions WHERE message_id = $1`, [message.id]);
    await uow.append({ groupId: message.groupId, type: GroupEventKind.MESSAGE_DELETED, messageId: message.id, actorId });
  }

  async react(user: UserEntity, messageId: string, emoji: string, add: boolean): Promise<MessageType> {
    assertCanWrite(user);
    if (!isSingleEmoji(emoji)) throw badInput('emoji must be a single emoji', 'emoji');
    await unitOfWork(this.db, this.events, async (uow) => {
      const { tx } = uow;
      const message = await this.visibleMessage(tx, user, messageId, true);
      if (message.status === 'DELETED') throw badInput('Deleted messages cannot take reactions', 'messageId');
      const changed: unknown[] = add
        ? await tx.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`, [messageId, user.id, emoji])
        : await tx.query(`WITH d AS (DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3 RETURNING 1) SELECT * FROM d`, [messageId, user.id, emoji]);
      if (changed.length === 0) return;
      await uow.append({
        groupId: message.groupId,
        type: add ? GroupEventKind.REACTION_ADDED : GroupEventKind.REACTION_REMOVED,
        messageId,
        subjectUserId: user.id,
        actorId: user.id,
        data: { emoji },
      });
    });
    return this.view(messageId);
  }

  /** Moves the caller's read position forward (never back) and returns it. */
  async markRead(user: UserEntity, groupId: string, seq: number): Promise<number> {
    if (!Number.isInteger(seq) || seq < 0) throw badInput('seq must be a non-negative integer', 'seq');
    const { lastSeq } = await requireMembership(this.db.manager, groupId, user.id);
    const [row]: Array<{ lastReadSeq: number }> = await this.db.query(
      `WITH u AS (UPDATE group_members SET last_read_seq = GREATEST(last_read_seq, $3) WHERE group_id = $1 AND user_id = $2
                  RETURNING last_read_seq::int AS "lastReadSeq")
       SELECT * FROM u`,
      [groupId, user.id, Math.min(seq, lastSeq)],
    );
    return row.lastReadSeq;
  }

  async report(user: UserEntity, messageId: string, reason: string): Promise<string> {
    const text = reason.trim();
    if (text.length < 1 || text.length > 1000 || hasNul(text)) throw badInput('reason must be 1 to 1000 characters other than NUL', 'reason');
    return this.db.transaction(async (tx) => {
      const message = await this.visibleMessage(tx, user, messageId, false);
      const [row]: Array<{ id: string }> = await tx.query(
        `INSERT INTO message_reports (message_id, group_id, reporter_id, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id, reporter_id) DO UPDATE
           SET reason = CASE WHEN message_reports.status = 'OPEN' THEN message_reports.reason ELSE EXCLUDED.reason END
         RETURNING id`,
        [messageId, message.groupId, user.id, text],
      );
      // Staff review reports as safety cases: one open case per message, this report one of its
      // sources (a repeat while it is open changes nothing), with the text as reported.
      await fileUserReport(tx, { reportId: row.id, reporterId: user.id, reason: text, messageId, groupId: message.groupId, authorId: message.authorId, body: message.body });
      return row.id;
    });
  }

  /** Typing is ephemeral: no seq, nothing stored, delivered only to members' live streams. */
  async setTyping(user: UserEntity, groupId: string, isTyping: boolean): Promise<void> {
    assertCanWrite(user);
    await requireMembership(this.db.manager, groupId, user.id);
    const now = Date.now();
    this.events.publish([
      ephemeralEvent(groupId, GroupEventKind.TYPING, {
        actor: toUserView(user),
        typing: { user: toUserView(user), isTyping, expiresAt: new Date(now + this.config.typingTtlMs) },
      }),
    ]);
  }

  /**
   * A page of history by seq, oldest first. Without cursors: the newest `first`
   * messages; `before` pages back, `after` pages forward.
   */
  async history(user: UserEntity, groupId: string, first: number, before: number | null, after: number | null): Promise<HistoryPage> {
    if (!Number.isInteger(first) || first < 1) throw badInput('first must be a positive integer', 'first');
    if (!isUuid(groupId)) throw notFound('Group');
    const limit = Math.min(first, this.config.messagePageMax);
    const forward = after !== null && before === null;
    const { sql, probe, params } = historyPage(groupId, user.id, before, after, forward, limit + 1);
    const rows: HistoryRow[] = await this.db.query(sql, params);
    // The page is read only for a member, so rows prove membership; no rows prove nothing.
    if (rows.length === 0) await requireMembership(this.db.manager, groupId, user.id);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    if (!forward) page.reverse();
    const reactions = new Map(page.map((r) => [r.id, (r.reactions ?? []).map((x) => ({ ...x, messageId: r.id, createdAt: new Date(x.createdAt) }))]));
    const messages = await buildMessageViews(this.db.manager, page, reactions);
    // Its own direction: the one row more than asked for. The other: `beyond`, read beside the page.
    const beyond = rows.length > 0 ? rows[0].beyond : probe !== null && ((await this.db.query(probe, params)) as Array<{ beyond: boolean }>)[0].beyond;
    return { messages, hasOlder: forward ? beyond : more, hasNewer: forward ? more : beyond };
  }

  async view(messageId: string): Promise<MessageType> {
    const rows: MessageEntity[] = await this.db.query(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`, [messageId]);
    return (await loadMessageViews(this.db.manager, rows))[0];
  }

  /** A message in a group the user belongs to, or NOT_FOUND; with `lock`, its group row is locked. */
  private async visibleMessage(tx: EntityManager, user: UserEntity, messageId: string, lock: boolean): Promise<MessageEntity> {
    if (!isUuid(messageId)) throw notFound('Message');
    const rows: MessageEntity[] = await tx.query(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`, [messageId]);
    if (rows.length === 0) throw notFound('Message');
    try {
      await requireMembership(tx, rows[0].groupId, user.id, lock);
    } catch {
      throw notFound('Message');
    }
    return rows[0];
  }

  private async ownMessage(tx: EntityManager, user: UserEntity, messageId: string): Promise<MessageEntity> {
    const message = await this.visibleMessage(tx, user, messageId, true);
    if (message.authorId !== user.id || message.kind !== 'USER') throw new DomainError('FORBIDDEN', 'You can only change your own messages');
    if (message.status === 'DELETED') throw badInput('This message was deleted', 'messageId');
    return message;
  }
}

type HistoryRow = MessageEntity & { beyond: boolean; reactions: Array<Omit<ReactionRow, 'messageId' | 'createdAt'> & { createdAt: string }> | null };

/**
 * A page of history in one statement, read only if the viewer is a member of the open
 * group: an index range on messages (group_id, seq) whose WHERE holds only the bounds
 * given (under a generic plan, `$2 IS NULL OR seq < $2` scans the whole group for a deep
 * page), ordered by the column itself (`ORDER BY seq` would mean the output's `seq::int`,
 * which no index serves: every row of the group read and sorted). Each row carries its
 * reactions, and says, as `beyond`, whether anything lies past the cursor on the other
 * side of the page; `probe` asks only that, for a page that came back empty.
 */
function historyPage(
  groupId: string,
  viewerId: string,
  before: number | null,
  after: number | null,
  forward: boolean,
  limit: number,
): { sql: string; probe: string | null; params: unknown[] } {
  const params: unknown[] = [groupId, limit, viewerId];
  const bounds: string[] = [];
  let beforeParam = 0;
  let afterParam = 0;
  if (before !== null) bounds.push(`messages.seq < $${(beforeParam = params.push(before))}`);
  if (after !== null) bounds.push(`messages.seq > $${(afterParam = params.push(after))}`);
  // A backward page (the newest, or before a cursor) has newer messages when any sits at or
  // after `before`; a forward page has older ones when any sits at or before `after`.
  // Asked as min/max, which PostgreSQL answers from one end of the index whatever the plan:
  // as `EXISTS (… seq >= $n)` the generic plan expected a third of the group to match and
  // scanned the table from its start, 80,000 rows (16 ms) for a page 200 pages deep.
  const beyond = forward
    ? `coalesce((SELECT min(o.seq) FROM messages o WHERE o.group_id = $1) <= $${afterParam}, false)`
    : beforeParam
      ? `coalesce((SELECT max(o.seq) FROM messages o WHERE o.group_id = $1) >= $${beforeParam}, false)`
      : 'false';
  return {
    sql: `SELECT ${MESSAGE_COLUMNS}, ${beyond} AS beyond,
                 (SELECT json_agg(json_build_object('userId', r.user_id, 'emoji', r.emoji, 'createdAt', r.created_at) ORDER BY r.created_at, r.emoji)
                    FROM reactions r WHERE r.message_id = messages.id) AS reactions
            FROM messages
           WHERE messages.group_id = $1${bounds.map((b) => ` AND ${b}`).join('')}
             AND EXISTS (SELECT 1 FROM group_members m JOIN groups g ON g.id = m.group_id
                          WHERE m.group_id = $1 AND m.user_id = $3 AND g.closed_at IS NULL)
           ORDER BY messages.seq ${forward ? 'ASC' : 'DESC'} LIMIT $2`,
    // The same parameter list, each given its type even where the probe needs none of it.
    probe: beyond === 'false' ? null : `SELECT ${beyond} AS beyond FROM (SELECT ${params.map((_, i) => `$${i + 1}::${i === 0 || i === 2 ? 'uuid' : 'bigint'}`).join(', ')}) AS typed`,
    params,
  };
}
