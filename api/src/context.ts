import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { ModelProvider } from './ai/provider';
import type { QuotaService } from './ai/quota.service';
import type { GroupReplies } from './ai/group-replies';
import type { CatchUpService } from './catch-up/catch-up.service';
import type { Config } from './config/env';
import type { ConversationService } from './conversations/conversation.service';
import type { MemoryService } from './memory/memory.service';
import type { ModerationService } from './moderation/moderation.service';
import type { SafetyCaseService } from './moderation/safety-case.service';
import type { EventBus } from './events/event-bus';
import type { EventPublisher } from './events/event-publisher';
import type { FeedHub } from './events/feed-hub';
import type { GroupService } from './groups/group.service';
import type { InviteService } from './invites/invite.service';
import type { MessageService } from './messages/message.service';
import type { Metrics } from './ops/metrics';
import type { RolloutService } from './rollout/rollout.service';
import type { UserEntity } from './users/user.entity';
import type { Identity } from './auth/jwt';
import type { UserService } from './users/user.service';
import type { Loaders } from './loaders';
import type { StaffService } from './admin/staff.service';
import type { ReadinessCheck } from './ops/readiness';

export interface Services {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: DataSource;
  bus: EventBus;
  hub: FeedHub;
  /** Publishes committed events; units of work (db/unit-of-work.ts) call it after commit. */
  publisher: EventPublisher;
  users: UserService;
  groups: GroupService;
  invites: InviteService;
  messages: MessageService;
  provider: ModelProvider;
  quota: QuotaService;
  moderation: ModerationService;
  safetyCases: SafetyCaseService;
  /** The AI's replies in groups (the `ai.respond` jobs). */
  replies: GroupReplies;
  /** Private catch-ups of what a member missed (the `ai.catch-up` jobs). */
  catchUps: CatchUpService;
  /** Work that runs after a request: jobs, processors, takeovers. */
  background: { idle(): Promise<void> };
  conversations: ConversationService;
  memories: MemoryService;
  rollout: RolloutService;
  staff: StaffService;
  /** /readyz's check, on a connection of its own with a deadline. */
  readiness: ReadinessCheck;
}

export interface Context {
  /**
   * Null when the request carried no token (only public fields resolve then). Over HTTP
   * it is read once the operation is known (graphql/viewer.ts): a lone sendMessage finds
   * its author in its own statement, with `identity` alone.
   */
  user: UserEntity | null;
  /** The verified token's claims; null without a token. */
  identity: Identity | null;
  services: Services;
  loaders: Loaders;
}
