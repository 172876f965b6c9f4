/**
 * /readyz: is the database (and the Redis bus, when there is one) answering? The check has
 * a connection of its own, so it never waits behind a pool that requests have filled, and
 * one deadline (READYZ_TIMEOUT_MS): a stalled database makes it answer 503 in time
 * instead of hanging the probe. Concurrent probes share the check under way, so a flood
 * of them costs one query at a time.
 */
import { Pool } from 'pg';
import type { EventBus } from '../events/event-bus';

export type Readiness = { ready: true; status: 'ready' } | { ready: false; status: 'database unreachable' | 'event bus unreachable' };

const TIMED_OUT = Symbol('timed out');

export class ReadinessCheck {
  private readonly pool: Pool;
  private running: Promise<Readiness> | null = null;

  constructor(
    databaseUrl: string,
    private readonly bus: Pick<EventBus, 'ping'>,
    private readonly timeoutMs: number,
  ) {
    this.pool = new Pool({
      connectionString: databaseUrl,
      max: 1,
      // A connection or query that has not answered by the deadline is given up (and its
      // connection dropped), so the next probe starts afresh.
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      idleTimeoutMillis: 60_000,
      allowExitOnIdle: true,
      application_name: 'roundtable-readyz',
    });
    // An idle connection the server dropped: the next check connects again.
    this.pool.on('error', () => undefined);
  }

  check(): Promise<Readiness> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async run(): Promise<Readiness> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), this.timeoutMs)));
    try {
      const db = await Promise.race([this.pool.query('SELECT 1').then(() => true, () => false), deadline]);
      if (db !== true) return { ready: false, status: 'database unreachable' };
      if (this.bus.ping) {
        const bus = await Promise.race([this.bus.ping().catch(() => false), deadline]);
        if (bus !== true) return { ready: false, status: 'event bus unreachable' };
      }
      return { ready: true, status: 'ready' };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
