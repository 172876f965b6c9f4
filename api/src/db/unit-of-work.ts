/**
 * One transaction and what must happen once it has committed. Work records the events
 * it appends (and any ephemeral events or other effects); they run after a successful
 * commit only, in the order they were recorded, and never after a rollback. Helpers that
 * take part in a caller's transaction take its UnitOfWork instead of a bare manager, so
 * what they append is published with the rest, after the outer commit.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { appendEvent, AppendInput, EventRow } from '../events/event-log';
import type { EventPublisher } from '../events/event-publisher';
import type { GroupEventType } from '../events/group-event.type';

export type AfterCommitPublisher = Pick<EventPublisher, 'publish' | 'publishStored' | 'log'>;

/** What runs after commit, in recording order. Later kinds (durable jobs' wake-ups) join this list. */
type AfterCommit =
  | { kind: 'stored'; rows: EventRow[] }
  | { kind: 'views'; views: readonly GroupEventType[] }
  | { kind: 'hook'; name: string; run: () => void | Promise<void> };

export class UnitOfWork {
  private readonly effects: AfterCommit[] = [];
  private open = true;

  constructor(readonly tx: EntityManager) {}

  /** Appends an event in this transaction and publishes it after commit. */
  async append(input: AppendInput): Promise<EventRow> {
    const row = await appendEvent(this.tx, input);
    this.record(row);
    return row;
  }

  /** Publishes rows appended in this transaction (by SQL of the caller's own) after commit. */
  record(rows: EventRow | readonly EventRow[] | null | undefined): void {
    this.assertOpen();
    for (const row of rows == null ? [] : Array.isArray(rows) ? rows : [rows as EventRow]) {
      const last = this.effects[this.effects.length - 1];
      // Consecutive rows of one group are read back in one query, as one batch.
      if (last?.kind === 'stored' && last.rows[0].groupId === row.groupId) last.rows.push(row);
      else this.effects.push({ kind: 'stored', rows: [row] });
    }
  }

  /** Publishes events the caller built (ephemeral ones, or views of committed rows) after commit. */
  publish(views: readonly GroupEventType[]): void {
    this.assertOpen();
    if (views.length > 0) this.effects.push({ kind: 'views', views });
  }

  /** Runs `run` after commit, in order with the events; a failure is logged and the rest still run. */
  afterCommit(name: string, run: () => void | Promise<void>): void {
    this.assertOpen();
    this.effects.push({ kind: 'hook', name, run });
  }

  /** @internal Ends recording; returns what to do now that the transaction is over. */
  close(): AfterCommit[] {
    this.open = false;
    return this.effects;
  }

  private assertOpen(): void {
    // Recording after the transaction ended (a detached promise) would be lost or published uncommitted.
    if (!this.open) throw new Error('this unit of work has ended');
  }
}

/**
 * Runs `work` in one transaction and returns its value; once the transaction has
 * committed, publishes what it recorded, in order. A throw or a failed commit publishes
 * nothing. The caller's result does not wait on subscribers, only on the publication.
 */
export async function unitOfWork<T>(db: DataSource, publisher: AfterCommitPublisher, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  let uow: UnitOfWork | undefined;
  let value: T;
  try {
    value = await db.transaction(async (tx) => {
      uow = new UnitOfWork(tx);
      return work(uow);
    });
  } catch (err) {
    uow?.close();
    throw err;
  }
  await runAfterCommit(uow!.close(), publisher);
  return value;
}

async function runAfterCommit(effects: readonly AfterCommit[], publisher: AfterCommitPublisher): Promise<void> {
  for (const e of effects) {
    if (e.kind === 'stored') await publisher.publishStored(e.rows);
    else {
      try {
        if (e.kind === 'views') publisher.publish(e.views);
        else await e.run();
      } catch (err) {
        // The transaction has committed: the caller's change stands, so this must not fail it.
        publisher.log.error({ err, effect: e.kind === 'hook' ? e.name : 'publish' }, 'after-commit effect failed');
      }
    }
  }
}
