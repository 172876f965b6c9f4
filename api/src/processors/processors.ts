/**
 * Side effects of committed changes, as named processors (the shape of Outline's
 * server/queues/processors/): each says which events it handles and performs them in the
 * background of the request that caused them. A processor that must not lose work to a
 * crash keeps its own durable record (the moderation processor's pending rows); this
 * dispatcher only runs it, never throws into the request, and knows when all is done.
 */
import type { Logger } from 'pino';
import type { DomainEvent, DomainEventName, DomainEventOf } from './domain-events';

export interface Processor<N extends DomainEventName = DomainEventName> {
  /** For the logs. */
  readonly name: string;
  readonly events: readonly N[];
  perform(event: DomainEventOf<N>): Promise<void>;
}

export class Processors {
  private readonly byEvent = new Map<DomainEventName, Processor[]>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  register<N extends DomainEventName>(processor: Processor<N>): void {
    for (const name of processor.events) {
      const list = this.byEvent.get(name) ?? [];
      list.push(processor as unknown as Processor);
      this.byEvent.set(name, list);
    }
  }

  /** Hands a committed event to its processors. Never throws; a failure is logged. */
  emit(event: DomainEvent): void {
    for (const processor of this.byEvent.get(event.name) ?? []) {
      const p: Promise<void> = processor
        .perform(event)
        .catch((err) => this.log.error({ err, processor: processor.name, event: event.name }, 'processor failed'))
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Resolves once every event emitted so far has been performed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
