import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics';
import type { EventRow } from './event-log';
import { readEvents } from './event-log';
import type { FeedHub } from './feed-hub';
import type { GroupEventType } from './group-event.type';

/**
 * Publishes events after their transaction has committed. Rare events (membership,
 * settings) are read back through the replay path so live and replayed shapes are the
 * same by construction; hot-path callers pass views they already built.
 */
export class EventPublisher {
  constructor(
    private readonly db: DataSource,
    private readonly hub: FeedHub,
    private readonly metrics: Metrics,
    /** Also where the unit of work reports after-commit effects that failed. */
    readonly log: Logger,
  ) {}

  publish(views: readonly GroupEventType[]): void {
    for (const v of views) this.metrics.eventsPublished.inc({ type: v.type });
    this.hub.publish(views);
  }

  /** Publishes committed rows of one group (consecutive seqs from one transaction). */
  async publishStored(rows: readonly EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    const seqs = rows.map((r) => r.seq);
    const from = Math.min(...seqs);
    try {
      const views = await readEvents(this.db.manager, rows[0].groupId, from - 1, Math.max(...seqs) - from + 1);
      this.publish(views);
    } catch (err) {
      // Subscribers still get these events: the feed reads them from the log on the next gap.
      this.log.error({ err, groupId: rows[0].groupId }, 'publishing committed events failed');
    }
  }
}
