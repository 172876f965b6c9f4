/**
 * Tells every API process at once that the rollout rules changed: each change sends a
 * PostgreSQL NOTIFY in its own transaction (delivered on commit), and every process keeps
 * one LISTEN connection that drops its cached rules when one arrives. Notifications reach
 * a process before anyone could have seen the change's response, so a second process
 * answers its next request under the new rules. If the connection is lost, the cached
 * rules are dropped and the cache's one-second limit bounds staleness until it is back.
 */
import { Client } from 'pg';
import type { Logger } from 'pino';

export const ROLLOUT_CHANNEL = 'rollout_rules_changed';

const RECONNECT_MS = 1000;

export class RolloutListener {
  private client: Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  /** Resolves once the first LISTEN is in place (rejects if the database cannot be reached). */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'roundtable-rollout-listener' });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      // Whatever changed while nobody listened must not be served from the cache.
      this.onChange();
      this.log.warn({ err }, 'rollout listener lost its connection; reconnecting');
      this.reconnectLater();
    };
    client.on('notification', () => this.onChange());
    client.on('error', lost);
    client.on('end', () => lost());
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${ROLLOUT_CHANNEL}`);
    } catch (err) {
      this.client = null;
      client.end().catch(() => undefined);
      throw err;
    }
    // Changes made before LISTEN took effect were not heard.
    this.onChange();
  }

  private reconnectLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed) return;
      this.connect().catch((err) => {
        this.log.warn({ err }, 'rollout listener could not reconnect');
        this.reconnectLater();
      });
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
