/**
 * Moderation (docs/product.md §6): the provider's moderation endpoint when configured, else
 * the built-in classifier, which scores on a thread of its own (ClassifierThread) so that
 * neither message delivery nor streaming replies wait for it. Callers decide what an
 * outage means: TEEN groups fail closed.
 */
import type { Logger } from 'pino';
import type { AiConfig } from '../config/env';
import type { ModelProvider } from '../ai/provider';
import { CategoryScores, moderationDecision, ModerationDecision, ModerationProfile } from '../domain/safety/moderation';
import { ClassifierThread } from './classifier-thread';

export interface ModerationResult extends ModerationDecision {
  scores: CategoryScores;
  source: 'openai' | 'local';
}

export class ModerationUnavailable extends Error {
  constructor(cause: unknown) {
    super('Moderation is unavailable');
    this.cause = cause;
  }
}

export class ModerationService {
  private readonly classifier = new ClassifierThread();

  constructor(
    private readonly provider: ModelProvider,
    private readonly config: AiConfig,
    private readonly log: Logger,
  ) {}

  get usesProvider(): boolean {
    return this.config.openaiModeration && this.provider.configured;
  }

  /** Scores `text` under the group's profile; throws ModerationUnavailable when the endpoint fails. */
  async check(text: string, profile: ModerationProfile, signal?: AbortSignal): Promise<ModerationResult> {
    if (!text.trim() || !this.usesProvider) return this.local(text, profile);
    try {
      const scores = await this.provider.moderate(text, signal);
      return { ...moderationDecision(scores, profile), scores, source: 'openai' };
    } catch (err) {
      this.log.warn({ err }, 'moderation endpoint failed');
      throw new ModerationUnavailable(err);
    }
  }

  /**
   * For STANDARD groups an outage falls back to the local classifier; TEEN groups get
   * no fallback (the caller fails closed).
   */
  async checkOrFallback(text: string, profile: ModerationProfile, signal?: AbortSignal): Promise<ModerationResult> {
    try {
      return await this.check(text, profile, signal);
    } catch (err) {
      if (profile === 'TEEN' || !(err instanceof ModerationUnavailable)) throw err;
      return this.local(text, profile);
    }
  }

  private async local(text: string, profile: ModerationProfile): Promise<ModerationResult> {
    const scores = await this.classifier.classify(text);
    return { ...moderationDecision(scores, profile), scores, source: 'local' };
  }
}
