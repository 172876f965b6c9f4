/**
 * Sending a message (docs/product.md §3). One SQL statement (send-statement.ts) checks
 * membership, takes the next seq, inserts the message and its event, and is idempotent on
 * (group, author, clientMessageId); with the group's AI on it also enqueues the message's
 * `ai.respond` job. The event is published after that commit, then the processors
 * (moderation after delivery) are told of the message.
 */
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import type { Identity } from '../auth/jwt';
import { assertCanWrite } from '../users/user.policy';
import { KeyedGate } from '../common/keyed-gate';
import type { Config } from '../config/env';
import { preparedQuery } from '../db/prepared';
import { parseMentions } from '../domain/mentions/parse-mentions';
import { addressesAi } from '../domain/respond-policy/should-respond';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import { hasVisibleText } from '../domain/text/member-text';
import { badInput, DomainError, notFound } from '../errors';
import { buildEventView } from '../events/event-log';
import type { EventPublisher } from '../events/event-publisher';
import { ephemeralEvent, GroupEventKind, GroupEventType } from '../events/group-event.type';
import { isUuid, requireMembership } from '../groups/group.policy';
import type { Metrics } from '../ops/metrics';
import type { UserEntity } from '../users/user.entity';
import { toUserView, UserType } from '../users/user.type';
import type { MessageEntity } from './message.entity';
import type { MessageType } from './message.type';
import { buildMessageView, loadMessageViews, loadUsers } from './message.views';
import { AiReach, claimsOf, claimsParams, ClaimsSendRow, MESSAGE_COLUMNS, SEND_BY_CLAIMS, SEND_BY_ID, SendRow, userFromJson } from './send-statement';
import { SendBatcher, SendParams, singleParams } from './send-batch';
import type { SendRateLimit } from './send-rate-limit';
import type { Processors } from '../processors/processors';

export interface SendMessageInput {
  groupId: string;
  body: string;
  clientMessageId: string;
  replyToId?: string | null;
}

/** The group's AI mode and safety profile as they were when a message was committed (read under its row lock). */
export interface GroupAtSend {
  aiMode: 'AUTO' | 'MENTIONS' | 'OFF';
  safetyProfile: SafetyProfileName;
}

interface PreparedSend {
  input: SendMessageInput;
  body: string;
  mentions: ReturnType<typeof parseMentions>;
}

/** PostgreSQL text cannot hold NUL: refuse it as input rather than fail in the database. */
export const hasNul = (s: string) => s.includes('\u0000');

/**
 * A message body as sent or edited: something visible (not only spaces, zero-width or other
 * invisible characters), no NUL, at most `maxLength` characters (not UTF-16 units).
 */
export function validMessageBody(body: string, maxLength: number): string {
  if (body.trim().length === 0) throw badInput('body must not be empty', 'body');
  if (!hasVisibleText(body)) throw badInput('body must contain visible characters', 'body');
  if (hasNul(body)) throw badInput('body must not contain NUL characters', 'body');
  if ([...body].length > maxLength) throw badInput(`body must be at most ${maxLength} characters`, 'body');
  return body;
}

export class MessageSender {
  /** One send per group at a time reaches the database (see KeyedGate): with 8 waiting per group it halved PostgreSQL's CPU per send. */
  private readonly sendsPerGroup = new KeyedGate(1);
  /** With SEND_BATCHING (the default), sends that wait for each other share one statement instead (send-batch.ts). */
  private readonly batcher: SendBatcher | null;
  constructor(
    private readonly db: DataSource,
    private readonly config: Config,
    private readonly events: EventPublisher,
    private readonly metrics: Metrics,
    private readonly rateLimit: SendRateLimit,
    private readonly processors: Processors,
    /**
     * In a process that starts the `ai.respond` jobs of its own messages itself
     * (ai/respond-here.processor.ts), how long such a job waits before any other worker may
     * take it: it runs elsewhere only if this process dies first. 0: the workers' at once.
     */
    private readonly aiJobDelayMs = 0,
  ) {
    this.batcher = config.sendBatching ? new SendBatcher(db, this.aiJobDelayMs, 4, 64, {
          batch: (size) => metrics.sendStatements.observe(size),
          waiting: (count) => metrics.sendsWaiting.set(count),
          fallback: () => metrics.sendBatchFallbacks.inc(),
        }) : null;
  }

  async send(user: UserEntity, input: SendMessageInput): Promise<MessageType> {
    assertCanWrite(user);
    const send = await this.prepare(user.subject, input);
    return this.sendAs(user, send);
  }

  /**
   * sendMessage for a request that has not read its user: the statement finds the author
   * by the token's claims (see send-statement.ts). When no row carries these claims yet,
   * `loadUser` upserts it as any other request would, and the message is sent by id.
   */
  async sendByClaims(identity: Identity, input: SendMessageInput, loadUser: () => Promise<UserEntity>): Promise<{ message: MessageType; author: UserEntity }> {
    const send = await this.prepare(identity.subject, input);
    let rows: ClaimsSendRow[];
    try {
      rows = this.batcher
        ? [await this.batcher.byClaims(this.sendParams(send), { subject: identity.subject, ...claimsOf(identity) })]
        : await this.sendsPerGroup.run(input.groupId, () =>
            preparedQuery<ClaimsSendRow>(this.db, 'send-message-by-claims', SEND_BY_CLAIMS, [...this.params(send, identity.subject), ...claimsParams(identity)]),
          );
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      // A concurrent retry with the same clientMessageId committed first.
      const author = await loadUser();
      assertCanWrite(author);
      return { message: await this.conclude(author, send, await this.existing(send, author.id)), author };
    }
    const { author: json, ...row } = rows[0];
    if (!json) {
      const author = await loadUser();
      assertCanWrite(author);
      return { message: await this.sendAs(author, send), author };
    }
    const author = userFromJson(json);
    assertCanWrite(author);
    return { message: await this.conclude(author, send, row.origin === null ? [] : [row as SendRow]), author };
  }

  /** Checks what needs no database and takes a place in the sender's rate limit (keyed by token subject). */
  private async prepare(sender: string, input: SendMessageInput): Promise<PreparedSend> {
    const body = validMessageBody(input.body, this.config.maxMessageLength);
    const cmid = input.clientMessageId;
    if (cmid.length < 1 || cmid.length > 100 || hasNul(cmid)) throw badInput('clientMessageId must be 1 to 100 characters other than NUL', 'clientMessageId');
    if (!isUuid(input.groupId)) throw notFound('Group');
    if (input.replyToId && !isUuid(input.replyToId)) throw notFound('Message');
    const wait = await this.rateLimit.take(sender);
    if (wait > 0) throw new DomainError('RATE_LIMITED', 'Too many messages; slow down', { retryAfterMs: wait });
    return { input, body, mentions: parseMentions(body, this.config.aiName) };
  }

  private sendParams({ input, body, mentions }: PreparedSend): SendParams {
    const reach: AiReach = !this.config.ai.configured ? 'unavailable' : addressesAi({ body, mentionsAi: mentions.mentionsAi }, this.config.aiName) ? 'addressed' : 'unaddressed';
    return { groupId: input.groupId, clientMessageId: input.clientMessageId, body, replyToId: input.replyToId ?? null, mentionUsernames: mentions.usernames, mentionsAi: mentions.mentionsAi, reach };
  }

  /** The single statements' parameters $1 … $9. */
  private params(send: PreparedSend, author: string): unknown[] {
    return singleParams(this.sendParams(send), author, this.aiJobDelayMs);
  }

  private async sendAs(user: UserEntity, send: PreparedSend): Promise<MessageType> {
    let rows: SendRow[];
    try {
      rows = this.batcher
        ? await this.batcher.byId(this.sendParams(send), user.id)
        : await this.sendsPerGroup.run(send.input.groupId, () => preparedQuery<SendRow>(this.db, 'send-message', SEND_BY_ID, this.params(send, user.id)));
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      rows = await this.existing(send, user.id);
    }
    return this.conclude(user, send, rows);
  }

  /** After a concurrent retry with the same clientMessageId committed first. */
  private existing({ input }: PreparedSend, authorId: string): Promise<SendRow[]> {
    return this.db.query(`SELECT 'existing' AS origin, ${MESSAGE_COLUMNS} FROM messages WHERE group_id = $1 AND author_id = $2 AND client_message_id = $3`, [
      input.groupId,
      authorId,
      input.clientMessageId,
    ]);
  }

  /** The sent (or earlier) message as the API shows it; a new one is published, then moderated and offered to the AI. */
  private async conclude(user: UserEntity, { input, body }: PreparedSend, rows: SendRow[]): Promise<MessageType> {
    const committedAt = performance.now();
    if (rows.length === 0) {
      // Nothing was sent: a missing group (or one the user is not in) is NOT_FOUND, else it was the reply target.
      if (input.replyToId) await this.replyTargetMissing(user, input.groupId);
      throw notFound('Group');
    }
    const { origin, eventAt, aiMode, safetyProfile, aiJobId, ...row } = rows[0];
    if (origin === 'existing') {
      assertSameSend(row, body, input.replyToId ?? null);
      return (await loadMessageViews(this.db.manager, [row]))[0];
    }

    const author = toUserView(user);
    const users = new Map<string, UserType>([[user.id, author]]);
    if (row.mentionUserIds.length > 0) for (const [k, v] of await loadUsers(this.db.manager, row.mentionUserIds)) users.set(k, v);
    const message = buildMessageView(row, users);
    this.metrics.messagesSent.inc();
    this.events.publish([
      buildEventView(
        { groupId: row.groupId, seq: message.seq, type: GroupEventKind.MESSAGE_CREATED, messageId: row.id, subjectUserId: null, actorId: user.id, data: {}, createdAt: eventAt },
        { users, messages: new Map([[row.id, message]]) },
      ),
    ]);
    if (message.mentionsAi && aiMode !== 'OFF' && !this.config.ai.configured) this.events.publish([aiNotConfigured(message, user.id)]);
    // Published first: with the in-process bus the subscribers' frames are already written.
    // The processors then start moderation after delivery (off the event loop with the built-in classifier).
    this.processors.emit({ name: 'messages.created', message, author: user, group: { aiMode: aiMode!, safetyProfile: safetyProfile! }, aiJobHere: this.aiJobDelayMs > 0 && aiJobId !== null ? { id: aiJobId, committedAt } : null });
    return message;
  }

  private async replyTargetMissing(user: UserEntity, groupId: string): Promise<never> {
    await requireMembership(this.db.manager, groupId, user.id);
    throw notFound('Message');
  }
}

/**
 * Without a model provider the AI stays out of the thread: a mention gets this notice, for
 * its author alone, instead of an AI message that could only fail.
 */
function aiNotConfigured(message: MessageType, authorId: string): GroupEventType {
  return ephemeralEvent(message.groupId, GroupEventKind.AI_NOTICE, {
    notice: { code: 'AI_NOT_CONFIGURED', message: 'The AI is not set up on this service, so it cannot answer here.', resetsAt: null, messageId: message.id },
    visibleTo: authorId,
  });
}

/**
 * A retry must be the same send: reusing a clientMessageId for another text or reply target
 * is a client bug that answering with the old message would hide (Stripe refuses an
 * idempotency key reused with other parameters the same way). A message edited or deleted
 * since no longer shows what was sent, so its retries are answered with it as it is.
 */
function assertSameSend(existing: MessageEntity, body: string, replyToId: string | null): void {
  if (existing.editedAt || existing.deletedAt) return;
  if (existing.body !== body || (existing.replyToId ?? null) !== replyToId) {
    throw badInput('clientMessageId was already used for a different message: use a new clientMessageId for a new message', 'clientMessageId');
  }
}
