/**
 * Moderation after delivery (docs/product.md §6): every human message, and every edit, is
 * scored once it has been delivered; a flagged one opens an AUTO_FLAG case, and in TEEN
 * groups a high-severity one is hidden until reviewed.
 *
 * Durable without a job per message: the statement that writes a message (or an edit)
 * also leaves a row in `moderation_pending`, one cheap insert. This processor judges a new
 * message from what the send returned (no read), and deletes the rows it settled together,
 * one DELETE per DELETE_AFTER_MS; a sweep (at boot and after each heartbeat) settles what
 * a process that died left behind. Settling twice is harmless: a
 * message is flagged automatically at most once, checked under the group's lock; the flag
 * joins the message's open case if a report opened one first.
 *
 * The AI's decision uses the same verdict (`review`): in one process a message is scored
 * once, whether the processor or the AI asks first.
 */
import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import type { AfterCommitPublisher } from '../db/unit-of-work';
import { unitOfWork } from '../db/unit-of-work';
import { GroupEventKind } from '../events/group-event.type';
import type { Processor } from '../processors/processors';
import type { DomainEventOf } from '../processors/domain-events';
import { ModerationResult, ModerationService, ModerationUnavailable } from './moderation.service';
import type { SafetyCaseService } from './safety-case.service';

/** Messages scored per batch. */
const BATCH = 64;
/** Rows the sweep takes at a time. */
const SWEEP = 256;
/** Verdicts kept for the AI's job, which usually asks just after the processor settled the message. */
const RECENT = 2048;
/**
 * Settled rows are deleted together, at most this long after the first of them: at a light
 * load too, one DELETE serves many messages. A crash in between only means moderating them
 * again after the restart (a message gets at most one case).
 */
const DELETE_AFTER_MS = 100;
const DELETE_BATCH = 512;

interface PendingMessage {
  id: string;
  groupId: string;
  authorId: string | null;
  body: string;
  gone: boolean;
  profile: SafetyProfileName;
  /** The pending row's edit count when read; null when the message is not pending (already settled). */
  rev: number | null;
}

interface Waiter {
  promise: Promise<ModerationResult | null>;
  resolve: (r: ModerationResult | null) => void;
  /** What the sender already knows: a new message needs no read to be judged. */
  known?: PendingMessage;
}

export class AfterDeliveryModeration implements Processor<'messages.created' | 'messages.edited'> {
  readonly name = 'moderation-after-delivery';
  readonly events = ['messages.created', 'messages.edited'] as const;
  /** Queued for the next batch. */
  private readonly waiting = new Map<string, Waiter>();
  /** Being scored: a second ask for the same text shares the verdict. */
  private readonly scoring = new Map<string, Promise<ModerationResult | null>>();
  /** Settling (scored, then flagged): what `perform` waits for after the verdict. */
  private readonly settling = new Map<string, Promise<void>>();
  /** The latest verdicts, by message, with the text they judged. */
  private readonly recent = new LRUCache<string, { body: string; verdict: ModerationResult }>({ max: RECENT });
  private scheduled = false;
  /** Settled pending rows (id, rev) waiting for their DELETE. */
  private settled: Array<{ id: string; rev: number }> = [];
  private deleteTimer: NodeJS.Timeout | null = null;
  private deleting: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    private readonly moderation: ModerationService,
    private readonly safetyCases: SafetyCaseService,
    private readonly publisher: AfterCommitPublisher,
    private readonly log: Logger,
    /** A pending row older than this is the sweep's: its process had every chance to settle it. */
    private readonly sweepAfterMs: number,
  ) {}

  async perform(event: DomainEventOf<'messages.created' | 'messages.edited'>): Promise<void> {
    const { message } = event;
    if (event.name === 'messages.edited') {
      // An edit's new text must be scored even while the old one still is.
      await this.review(message.id, { fresh: true });
    } else {
      // A new message is judged from what the send statement returned: no read, and its row's rev is 0.
      const known = { id: message.id, groupId: message.groupId, authorId: event.author.id, body: message.body, gone: false, profile: event.group.safetyProfile, rev: 0 };
      await this.review(message.id, { known });
    }
    // The verdict comes first (the AI waits for it); the case and the hiding follow.
    await this.settling.get(message.id);
  }

  /**
   * The verdict on a human message as it reads now, settling its pending row: flagged
   * content is flagged as a side effect. Null when moderation is unavailable under the
   * group's profile (TEEN fails closed; the row stays pending and the sweep retries it).
   * With `body`, a verdict on that same text settled moments ago is reused; `fresh`
   * scores again even while an older text of the message is being scored (an edit).
   */
  review(messageId: string, { fresh = false, body, known }: { fresh?: boolean; body?: string; known?: PendingMessage } = {}): Promise<ModerationResult | null> {
    const recent = body === undefined ? undefined : this.recent.get(messageId);
    if (recent && recent.body === body) return Promise.resolve(recent.verdict);
    const queued = this.waiting.get(messageId);
    if (queued) {
      // An edit in the same turn as its send: the batch must read the new text, not the sent one.
      if (fresh) queued.known = undefined;
      return queued.promise;
    }
    const scoring = fresh ? undefined : this.scoring.get(messageId);
    if (scoring) return scoring;
    let resolve!: (r: ModerationResult | null) => void;
    const promise = new Promise<ModerationResult | null>((r) => (resolve = r));
    this.waiting.set(messageId, { promise, resolve, known });
    if (!this.scheduled) {
      this.scheduled = true;
      // Everything sent in this turn of the event loop goes in one batch.
      setImmediate(() => {
        this.scheduled = false;
        while (this.waiting.size > 0) void this.flush();
      });
    }
    return promise;
  }

  /** Settles pending rows older than `sweepAfterMs` (their process died); resolves with how many it took. */
  async sweep(): Promise<number> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT message_id AS id FROM moderation_pending WHERE queued_at < now() - $1 * interval '1 millisecond' ORDER BY queued_at LIMIT ${SWEEP}`,
      [this.sweepAfterMs],
    );
    if (rows.length > 0) this.log.info({ messages: rows.length }, 'moderating messages left pending');
    await Promise.all(rows.map((r) => this.review(r.id)));
    return rows.length;
  }

  /** Deletes the settled rows now (tests, shutdown): resolves once none waits. */
  async drain(): Promise<void> {
    this.deleteSettled();
    await this.deleting;
  }

  private async flush(): Promise<void> {
    const batch = [...this.waiting].slice(0, BATCH);
    for (const [id, w] of batch) {
      this.waiting.delete(id);
      this.scoring.set(id, w.promise);
    }
    try {
      const unknown = batch.filter(([, w]) => !w.known).map(([id]) => id);
      const read = unknown.length > 0 ? await this.read(unknown) : [];
      const messages = [...batch.flatMap(([, w]) => (w.known ? [w.known] : [])), ...read];
      const byId = new Map(batch);
      await Promise.all(
        messages.map((m) => {
          const settling = this.settle(m, byId.get(m.id)!);
          this.settling.set(m.id, settling);
          return settling.finally(() => this.settling.get(m.id) === settling && this.settling.delete(m.id));
        }),
      );
    } catch (err) {
      this.log.error({ err, messages: batch.length }, 'moderation after delivery failed; the sweep retries it');
    } finally {
      // Resolving twice is harmless: a waiter settled above keeps its verdict.
      for (const [id, w] of batch) {
        w.resolve(null);
        if (this.scoring.get(id) === w.promise) this.scoring.delete(id);
      }
    }
  }

  private read(ids: string[]): Promise<PendingMessage[]> {
    return this.db.query(
      `SELECT ids.id, m.group_id AS "groupId", m.author_id AS "authorId", coalesce(m.body, '') AS body,
              m.id IS NULL OR m.deleted_at IS NOT NULL OR m.kind <> 'USER' AS gone, coalesce(g.safety_profile, 'TEEN') AS profile, p.rev
         FROM unnest($1::uuid[]) AS ids(id)
         LEFT JOIN messages m ON m.id = ids.id
         LEFT JOIN groups g ON g.id = m.group_id
         LEFT JOIN moderation_pending p ON p.message_id = ids.id`,
      [ids],
    );
  }

  /** Scores one message and hands its verdict on at once; then flags it, and queues its pending row for deletion. */
  private async settle(m: PendingMessage, waiter: Waiter): Promise<void> {
    const verdict = m.gone ? null : await this.score(m);
    if (verdict) this.recent.set(m.id, { body: m.body, verdict });
    // The AI's decision waits for this verdict, not for the rest of the batch or the case.
    waiter.resolve(verdict);
    if (verdict?.flagged) await this.flag(m, verdict);
    if (m.rev !== null && (m.gone || verdict !== null)) this.queueDelete({ id: m.id, rev: m.rev });
  }

  private queueDelete(row: { id: string; rev: number }): void {
    this.settled.push(row);
    if (this.settled.length >= DELETE_BATCH) this.deleteSettled();
    else this.deleteTimer ??= setTimeout(() => this.deleteSettled(), DELETE_AFTER_MS).unref();
  }

  private deleteSettled(): void {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = null;
    const rows = this.settled;
    this.settled = [];
    if (rows.length === 0) return;
    this.deleting = this.deleting.then(() =>
      this.db
        .query(`DELETE FROM moderation_pending p USING unnest($1::uuid[], $2::int[]) AS s(id, rev) WHERE p.message_id = s.id AND p.rev = s.rev`, [
          rows.map((r) => r.id),
          rows.map((r) => r.rev),
        ])
        .then(
          () => undefined,
          (err) => this.log.warn({ err, messages: rows.length }, 'deleting settled moderation rows failed; the sweep settles them again'),
        ),
    );
  }

  private async score(m: PendingMessage): Promise<ModerationResult | null> {
    try {
      return await this.moderation.checkOrFallback(m.body, m.profile);
    } catch (err) {
      if (!(err instanceof ModerationUnavailable)) throw err;
      return null;
    }
  }

  /** Flags the message (once): opens its case or joins its open one, and hides it until reviewed where the profile says so. */
  private async flag(m: PendingMessage, result: ModerationResult): Promise<void> {
    const hide = m.profile === 'TEEN' && result.hideUntilReviewed;
    await unitOfWork(this.db, this.publisher, async (uow) => {
      // Settled twice (the sweep, a job run again) must not flag twice: the group's lock orders the two.
      // A message is flagged automatically once, into its open case (a reported one included) or a new one.
      await uow.tx.query(`SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, [m.groupId]);
      const known: unknown[] = await uow.tx.query(
        `SELECT 1 FROM safety_cases c JOIN safety_case_sources s ON s.case_id = c.id AND s.kind = 'AUTO_FLAG' WHERE c.message_id = $1 LIMIT 1`,
        [m.id],
      );
      if (known.length > 0) return;
      await this.safetyCases.open(
        {
          source: 'AUTO_FLAG',
          groupId: m.groupId,
          messageId: m.id,
          authorId: m.authorId,
          categories: result.categories,
          severity: result.severity === 'none' ? 'low' : result.severity,
          teen: m.profile === 'TEEN',
          excerpt: m.body,
          details: { scores: result.scores, source: result.source, hidden: hide },
        },
        uow.tx,
      );
      if (!hide) return;
      const hidden: unknown[] = await uow.tx.query(`UPDATE messages SET status = 'HIDDEN', status_reason = 'UNDER_REVIEW' WHERE id = $1 AND status = 'SENT' RETURNING 1`, [m.id]);
      if (hidden.length > 0) await uow.append({ groupId: m.groupId, type: GroupEventKind.MESSAGE_UPDATED, messageId: m.id });
    });
  }
}
