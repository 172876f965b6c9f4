import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from './config/env';
import type { EventBus } from './events/event-bus';
import type { FeedHub } from './events/feed-hub';
import type { GroupService } from './groups/group.service';
import type { InviteService } from './invites/invite.service';
import type { MessageService } from './messages/message.service';
import type { Metrics } from './ops/metrics';
import type { UserEntity } from './users/user.entity';
import type { UserService } from './users/user.service';
import type { Loaders } from './loaders';

export interface Services {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: DataSource;
  bus: EventBus;
  hub: FeedHub;
  users: UserService;
  groups: GroupService;
  invites: InviteService;
  messages: MessageService;
}

export interface Context {
  /** Null when the request carried no token (only public fields resolve then). */
  user: UserEntity | null;
  services: Services;
  loaders: Loaders;
}
