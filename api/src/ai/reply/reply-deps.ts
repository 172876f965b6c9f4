import type { Logger } from 'pino';
import type { Config } from '../../config/env';
import type { ModerationService } from '../../moderation/moderation.service';
import type { SafetyCaseService } from '../../moderation/safety-case.service';
import type { Metrics } from '../../ops/metrics';
import type { ModelProvider } from '../provider';
import type { QuotaService } from '../quota.service';

/** What the reply steps use, shared by groups and private chats. */
export interface ReplyDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  provider: ModelProvider;
  quota: QuotaService;
  moderation: ModerationService;
  safetyCases: SafetyCaseService;
}
