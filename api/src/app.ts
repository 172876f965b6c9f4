/**
 * Wires one API process: database, event bus, services, Apollo over HTTP and graphql-ws
 * on the same port. `main.ts` and the tests both start the service through here.
 */
import 'reflect-metadata';
import http from 'node:http';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Config } from './config/env';
import { createTokenVerifier } from './auth/jwt';
import type { Context, Services } from './context';
import { createDataSource } from './db/data-source';
import { EventPublisher } from './events/event-publisher';
import { EventBus, InProcessEventBus, RedisEventBus } from './events/event-bus';
import { FeedHub } from './events/feed-hub';
import { GroupService } from './groups/group.service';
import { ConversationService } from './conversations/conversation.service';
import { PrivateResponder } from './conversations/private-responder';
import { MemoryService } from './memory/memory.service';
import { GroupReplies } from './ai/group-replies';
import { ReplyPipeline } from './ai/reply/reply-pipeline';
import { AfterDeliveryModeration } from './moderation/after-delivery.processor';
import { Processors } from './processors/processors';
import { CatchUpService } from './catch-up/catch-up.service';
import { OpenAIProvider } from './ai/provider';
import { QuotaService } from './ai/quota.service';
import { ModerationService } from './moderation/moderation.service';
import { SafetyCaseService } from './moderation/safety-case.service';
import { PURGE_EVIDENCE_CRON, PURGE_EVIDENCE_TASK, purgeExpiredEvidence } from './moderation/evidence-retention';
import { createHttpHandler } from './graphql/http';
import { startApollo } from './graphql/apollo';
import { clientFieldCosts } from './graphql/limits';
import { attachGraphqlWs } from './graphql/ws-server';
import { resolveViewer } from './graphql/viewer';
import { InviteService } from './invites/invite.service';
import { MessageService } from './messages/message.service';
import { LocalSendRateLimit, RedisSendRateLimit, SendRateLimit } from './messages/send-rate-limit';
import { createMetrics } from './ops/metrics';
import { createMetricsListener } from './ops/metrics-endpoint';
import { ReadinessCheck } from './ops/readiness';
import { RolloutService } from './rollout/rollout.service';
import { clientSchema } from './schema';
import { UserService } from './users/user.service';
import { StaffService } from './admin/staff.service';
import { createAdminEndpoint } from './admin/admin-server';
import { runMigrationsLocked } from './db/migrate-lock';
import { installQueue, JobRunner } from './jobs/job-runner';
import { RespondHere } from './ai/respond-here.processor';
import { InstanceLease } from './jobs/instance-lease';
import { ReplyTakeover } from './jobs/reply-takeover';

export interface App {
  server: http.Server;
  services: Services;
  /** Listens and resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Starts only the /metrics listener (METRICS_PORT, when set): what a ROLE=worker process serves. */
  listenMetrics(): Promise<void>;
  /** Stops accepting work, ends subscriptions, closes connections and the pool. */
  stop(): Promise<void>;
}

export async function createApp(config: Config, databaseUrl: string, log: Logger): Promise<App> {
  const db = createDataSource(databaseUrl);
  await db.initialize();
  // Under an advisory lock: instances starting together migrate once (db/migrate-lock.ts).
  const applied = await runMigrationsLocked(db, databaseUrl);
  if (applied.length) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  // The job queue's schema: every role enqueues (sends do), so every role installs it.
  await installQueue(db, log);
  const runsJobs = config.role !== 'api';
  const jobs = runsJobs ? new JobRunner(db, databaseUrl, config.ai.jobsConcurrency, log) : null;
  let takeover: ReplyTakeover | null = null;
  // After each heartbeat: what dead processes left pending (both exist before the first beat).
  const lease = new InstanceLease(db, config.ai.replyLeaseMs, log, () => [...(jobs?.workerIds ?? [])], async () => {
    await afterDelivery.sweep();
    await takeover?.sweep();
  });

  const metrics = createMetrics(config.metrics.loopResolutionMs);
  const bus: EventBus = config.redisUrl ? new RedisEventBus(config.redisUrl, log) : new InProcessEventBus();
  const hub = new FeedHub(db, bus, log, metrics, { maxQueuedEvents: config.subscription.maxQueuedEvents });
  const publisher = new EventPublisher(db, hub, metrics, log);
  const rollout = new RolloutService(db);
  const groups = new GroupService(db, config, publisher, rollout);
  const provider = new OpenAIProvider(config.ai);
  const quota = new QuotaService(db, config.ai);
  const moderation = new ModerationService(provider, config.ai, log);
  const safetyCases = new SafetyCaseService(db);
  // Side effects of committed changes, as named processors (processors/processors.ts).
  const processors = new Processors(log);
  const afterDelivery = new AfterDeliveryModeration(db, moderation, safetyCases, publisher, log, config.ai.replyLeaseMs);
  processors.register(afterDelivery);
  const pipeline = new ReplyPipeline({ config, log, metrics, provider, quota, moderation, safetyCases });
  const replies = new GroupReplies({ db, config, log, provider, quota, rollout, publisher, bus, afterDelivery, pipeline, instanceId: lease.id });
  // A process that runs jobs runs the `ai.respond` jobs of the messages it stores itself, at once.
  const respondHere = jobs ? new RespondHere(db, replies, metrics, log, config.ai.jobsConcurrency, () => jobs.runningCount) : null;
  if (respondHere) processors.register(respondHere);
  const catchUps = new CatchUpService({ db, config, log, quota, publisher, rollout, pipeline, instanceId: lease.id });
  const sendRateLimit: SendRateLimit = config.redisUrl
    ? new RedisSendRateLimit(config.redisUrl, config.messageRatePerMinute, 60_000, log)
    : new LocalSendRateLimit(config.messageRatePerMinute, 60_000);
  // The jobs this process runs itself wait a lease for anyone else; an API process leaves them to the workers at once.
  const messages = new MessageService(db, config, publisher, metrics, sendRateLimit, processors, respondHere ? config.ai.replyLeaseMs : 0);
  const memories = new MemoryService(db);
  const privateResponder = new PrivateResponder({ db, config, log, quota, moderation, memories, safetyCases, pipeline, instanceId: lease.id });
  const conversations = new ConversationService(db, config, memories, privateResponder);
  await lease.start();
  if (jobs) {
    await jobs.start({
      'ai.respond': async (payload, helpers) => {
        const due = helpers.job.run_at.getTime();
        await replies.respondTo((payload as { messageId: string }).messageId, { started: () => metrics.aiJobWait.observe({ path: 'queue' }, Math.max(0, Date.now() - due) / 1000) });
      },
      'ai.catch-up': async (payload) => catchUps.run((payload as { catchUpId: string }).catchUpId),
      [PURGE_EVIDENCE_TASK]: async () => {
        const cases = await purgeExpiredEvidence(db, config.safetyEvidenceRetentionDays);
        if (cases > 0) log.info({ cases, retentionDays: config.safetyEvidenceRetentionDays }, 'purged the evidence of decided safety cases');
      },
    }, [PURGE_EVIDENCE_CRON]);
    await lease.renew();
    takeover = new ReplyTakeover(db, lease.id, config.ai, log, replies, privateResponder);
    await takeover.sweep();
  }
  await afterDelivery.sweep();
  /** Resolves once nothing started so far is still running here: jobs, processors, takeovers (tests, shutdown). */
  const background = {
    async idle(): Promise<void> {
      await jobs?.idle();
      await processors.idle();
      await afterDelivery.drain();
      await takeover?.idle();
    },
  };
  const services: Services = {
    config,
    log,
    metrics,
    db,
    bus,
    hub,
    publisher,
    users: new UserService(db, config),
    groups,
    invites: new InviteService(db, config, groups, publisher, rollout),
    messages,
    provider,
    quota,
    moderation,
    safetyCases,
    replies,
    catchUps,
    background,
    conversations,
    memories,
    rollout,
    staff: new StaffService(db, config.staff),
    readiness: new ReadinessCheck(databaseUrl, bus, config.readyzTimeoutMs),
  };

  const schema = await clientSchema();
  const verify = createTokenVerifier(config.auth);
  const apollo = await startApollo<Context>(schema, { config, log, label: 'internal error', beforeExecute: resolveViewer, costs: clientFieldCosts(config), costKey: (ctx) => (ctx.identity ? `user:${ctx.identity.subject}` : null) });

  const admin = await createAdminEndpoint(services);
  const handler = createHttpHandler(apollo, services, verify, admin);
  const server = http.createServer((req, res) => void handler(req, res));
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.graphql.bodyLimitBytes });
  const ws = attachGraphqlWs(wss, { schema, services, verify });
  const metricsPort = config.metrics.port;
  const metricsListener = metricsPort === null ? null : createMetricsListener(metrics, { ...config.metrics, port: metricsPort }, log);

  return {
    server,
    services,
    listenMetrics: async () => {
      await metricsListener?.listen();
    },
    listen: async (port, host = config.host) => {
      await metricsListener?.listen();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      });
    },
    async stop() {
      // Takes nothing over from others while handing its own work back.
      takeover?.stop();
      respondHere?.stop();
      await ws.dispose();
      // No new jobs; replies under way (and open requests, private replies among them) get
      // SHUTDOWN_GRACE_MS to finish. Group replies still streaming then are handed back, not
      // ended: another instance, or the next start, takes them over (jobs/reply-takeover.ts).
      const grace = setTimeout(() => {
        replies.handBackAll();
        privateResponder.handBackAll();
      }, config.shutdownGraceMs);
      await Promise.all([
        (async () => {
          await jobs?.stop();
          await background.idle();
        })(),
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs).unref();
        }),
      ]);
      clearTimeout(grace);
      // Private replies cut at the grace store their FAILED INTERRUPTED end before the lease goes.
      await privateResponder.idle();
      await lease.stop();
      wss.close();
      await apollo.stop();
      await admin.apollo.stop();
      await bus.close();
      await sendRateLimit.close();
      await metricsListener?.close();
      await services.readiness.close();
      await db.destroy();
    },
  };
}
