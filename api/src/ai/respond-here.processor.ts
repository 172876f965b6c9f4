/**
 * The `ai.respond` job of a message this process stored, run here at once (issues 11, 13).
 *
 * The job is as durable as any other: the send statement commits it with the message. But
 * a process that runs jobs enqueues it due one reply lease later (AI_REPLY_LEASE_MS) and
 * starts it itself as soon as the send has committed: no NOTIFY, no fetch by a worker, no
 * lock, so the reply starts one hop and two statements sooner. The job is completed once
 * the reply is reserved, when the reply's own lease takes over (jobs/reply-takeover.ts), or
 * when the job ends without a reply. Should the process die before that, the job comes due
 * when the lease is over and any instance runs it. Should it fail here, or find this
 * process at its JOBS_CONCURRENCY or shutting down, it is due at once for the workers. A
 * job run twice does no harm: the reply is idempotent by its trigger (start_ai_reply).
 */
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics';
import type { Processor } from '../processors/processors';
import type { DomainEventOf } from '../processors/domain-events';
import type { GroupReplies } from './group-replies';

export class RespondHere implements Processor<'messages.created'> {
  readonly name = 'ai.respond-here';
  readonly events = ['messages.created'] as const;
  private running = 0;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    private readonly replies: Pick<GroupReplies, 'respondTo'>,
    private readonly metrics: Pick<Metrics, 'aiJobWait'>,
    private readonly log: Logger,
    /** JOBS_CONCURRENCY: with this many jobs running here (these and the queue's), a job goes to the queue. */
    private readonly concurrency: number,
    /** Jobs the queue's workers run in this process now. */
    private readonly queueRunning: () => number = () => 0,
  ) {}

  async perform(event: DomainEventOf<'messages.created'>): Promise<void> {
    const job = event.aiJobHere;
    if (job === null) return;
    if (this.stopped || this.running + this.queueRunning() >= this.concurrency) return this.toQueue(event.message.id);
    this.running++;
    let completing: Promise<void> | null = null;
    const complete = () => (completing ??= this.complete(job.id));
    try {
      await this.replies.respondTo(event.message.id, {
        started: () => this.metrics.aiJobWait.observe({ path: 'here' }, (performance.now() - job.committedAt) / 1000),
        reserved: () => void complete(),
      });
    } catch (err) {
      this.log.warn({ err, messageId: event.message.id, jobId: job.id }, 'AI reply failed here; the job queue retries it');
      // Reserved already: the retry finds the reply and does nothing (the reply's lease covers it).
      if (completing === null) return this.toQueue(event.message.id);
    } finally {
      this.running--;
    }
    await complete();
  }

  /** Takes no more jobs here: from now on they are due for the workers at once. */
  stop(): void {
    this.stopped = true;
  }

  private async complete(jobId: string): Promise<void> {
    await this.db.query(`SELECT graphile_worker.complete_jobs(ARRAY[$1::bigint])`, [jobId]).catch((err: unknown) => {
      // Left in the queue, the job comes due after the lease and finds its reply done.
      this.log.warn({ err, jobId }, 'could not complete an ai.respond job run here');
    });
  }

  /** Makes the job due now, for any worker (the same job, by its key: add_job in 'replace' mode, which also wakes them). */
  private async toQueue(messageId: string): Promise<void> {
    await this.db.query(
      `SELECT graphile_worker.add_job('ai.respond', json_build_object('messageId', $1::uuid), max_attempts => 5, job_key => 'ai.respond:' || $1, job_key_mode => 'replace')`,
      [messageId],
    );
  }
}
