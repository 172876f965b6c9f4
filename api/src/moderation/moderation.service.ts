/**
 * Moderation (PRODUCT.md §6): the provider's moderation endpoint when configured, else
 * the built-in classifier. Callers decide what an outage means: TEEN groups fail closed.
 */
import type { Logger } from 'pino';
import type { AiConfig } from '../config/env';
import type { ModelProvider } from '../ai/provider';
import { CategoryScores, classifyLocal, moderationDecision, ModerationDecision, ModerationProfile } from '../domain/safety/moderation';

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
    if (!text.trim()) return { ...moderationDecision(classifyLocal('').categories, profile), scores: classifyLocal('').categories, source: 'local' };
    if (!this.usesProvider) {
      const { categories } = classifyLocal(text);
      return { ...moderationDecision(categories, profile), scores: categories, source: 'local' };
    }
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
      const { categories } = classifyLocal(text);
      return { ...moderationDecision(categories, profile), scores: categories, source: 'local' };
    }
  }
}
