/**
 * This process's lease (issue 11): a row in `service_instances` renewed by a heartbeat
 * every AI_REPLY_LEASE_MS / 3. Every AI reply in flight records its owner
 * (`model_responses.lease_owner`); a reply whose owner has no live row is taken over by
 * another instance (reply-takeover.ts). The row also lists the process's graphile-worker
 * worker ids, so that the jobs it held are unlocked when it is found dead, not after
 * graphile-worker's own four hours.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';

export class InstanceLease {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly leaseMs: number,
    private readonly log: Logger,
    private readonly workerIds: () => string[] = () => [],
    /** Runs after each heartbeat (the takeover sweep, outside ROLE=api). */
    private readonly afterBeat: () => Promise<void> = async () => undefined,
  ) {}

  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => {
      if (this.beating) return;
      this.beating = this.renew()
        .then(() => this.afterBeat())
        .catch((err) => this.log.error({ err }, 'instance heartbeat failed'))
        .finally(() => (this.beating = null));
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  async renew(): Promise<void> {
    await this.db.query(
      `INSERT INTO service_instances (id, expires_at, worker_ids) VALUES ($1, now() + $2 * interval '1 millisecond', $3)
       ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, worker_ids = excluded.worker_ids`,
      [this.id, this.leaseMs, this.workerIds()],
    );
  }

  /**
   * Stops the heartbeat and gives the lease up: the row is expired, not deleted, so the next
   * sweep of another instance (or of the next start) takes over whatever this process still
   * held and unlocks any graphile-worker job its workers left locked.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.db.query(`UPDATE service_instances SET expires_at = now() - interval '1 millisecond' WHERE id = $1`, [this.id]).catch(() => undefined);
  }
}
