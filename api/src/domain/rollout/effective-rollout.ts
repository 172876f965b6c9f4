/**
 * Rollout flags (docs/product.md §7): which features a user gets, from rules by region and
 * plan. Pure: the rules and the user are passed in. The most specific matching rule
 * wins (region+plan > region > plan > global); no matching rule means off, so a
 * feature without rules fails closed. A percentage admits users by a stable bucket of
 * their id, salted with the feature so each feature samples its own users.
 */
import { createHash } from 'node:crypto';
import { Plan, PLANS } from '../plan';

export const FEATURES = ['group_chats', 'group_chats_ai'] as const;
export type Feature = (typeof FEATURES)[number];

export const RULE_PLANS: readonly RulePlan[] = ['*', ...PLANS];
export type RulePlan = '*' | Plan;

export interface RolloutRule {
  feature: string;
  /** '*' or an ISO 3166-1 alpha-2 code. */
  region: string;
  plan: RulePlan;
  enabled: boolean;
  /** 0 to 100: the share of matching users who get the feature. */
  percentage: number;
}

export interface RolloutUser {
  id: string;
  /** Null when the token carried no region: only '*' rules match then. */
  region: string | null;
  plan: Plan;
}

export interface RolloutDecision<R extends RolloutRule = RolloutRule> {
  enabled: boolean;
  /** The rule that decided, or null when none matched. */
  rule: R | null;
  /** Machine-readable: 'no_rule', 'rule_disabled', 'in_percentage' or 'outside_percentage'. */
  reason: string;
}

export const REGION_PATTERN = /^[A-Z]{2}$/;

/**
 * How specific a rule is for this user: 3 region+plan, 2 region, 1 plan, 0 global,
 * -1 when it does not match at all.
 */
function specificity(rule: RolloutRule, region: string | null, plan: Plan): number {
  const regionMatch = rule.region === '*' ? 0 : region !== null && rule.region === region ? 2 : -1;
  const planMatch = rule.plan === '*' ? 0 : rule.plan === plan ? 1 : -1;
  return regionMatch < 0 || planMatch < 0 ? -1 : regionMatch + planMatch;
}

/** The most specific rule of `feature` that matches; the first one listed on a tie. */
export function matchingRule<R extends RolloutRule>(rules: readonly R[], feature: string, region: string | null, plan: Plan): R | null {
  let best: R | null = null;
  let bestScore = -1;
  for (const rule of rules) {
    if (rule.feature !== feature) continue;
    const score = specificity(rule, region, plan);
    if (score > bestScore) {
      best = rule;
      bestScore = score;
    }
  }
  return best;
}

/**
 * A user's stable position in [0, 100) for a feature: the same user and feature give the
 * same bucket in every process and after every restart.
 */
export function rolloutBucket(userId: string, feature: string): number {
  const digest = createHash('sha256').update(`${feature}\0${userId}`).digest();
  return (digest.readUInt32BE(0) / 0x1_0000_0000) * 100;
}

export function effectiveRollout<R extends RolloutRule>(rules: readonly R[], feature: string, user: RolloutUser): RolloutDecision<R> {
  const rule = matchingRule(rules, feature, user.region, user.plan);
  if (!rule) return { enabled: false, rule: null, reason: 'no_rule' };
  if (!rule.enabled) return { enabled: false, rule, reason: 'rule_disabled' };
  const inside = rolloutBucket(user.id, feature) < rule.percentage;
  return { enabled: inside, rule, reason: inside ? 'in_percentage' : 'outside_percentage' };
}

export type GridState = 'on' | 'off' | 'partial';

export interface GridCell<R extends RolloutRule = RolloutRule> {
  region: string;
  plan: RulePlan;
  state: GridState;
  /** The share of users in this cell who get the feature: 0 when off, 100 when on. */
  percentage: number;
  rule: R | null;
}

/**
 * The effective state of a feature per region × plan, for the console grid, region by
 * region in the order given. A region of '*' stands for every region without a rule of
 * its own (and users without a region); a plan of '*' likewise.
 */
export function effectiveGrid<R extends RolloutRule>(rules: readonly R[], feature: string, regions: readonly string[], plans: readonly RulePlan[]): GridCell<R>[] {
  return regions.flatMap((region) =>
    plans.map((plan): GridCell<R> => {
      const rule = rules
        .filter((r) => r.feature === feature && (r.region === '*' || r.region === region) && (r.plan === '*' || r.plan === plan))
        .reduce<R | null>((best, r) => (best === null || weight(r) > weight(best) ? r : best), null);
      const percentage = rule && rule.enabled ? rule.percentage : 0;
      const state: GridState = percentage >= 100 ? 'on' : percentage <= 0 ? 'off' : 'partial';
      return { region, plan, state, percentage, rule };
    }),
  );
}

/** Specificity by the rule's own scope, for grid cells whose region or plan may be '*'. */
const weight = (r: RolloutRule): number => (r.region === '*' ? 0 : 2) + (r.plan === '*' ? 0 : 1);

export interface RuleInput {
  feature: string;
  region: string;
  plan: string;
  enabled: boolean;
  percentage: number;
}

/** Every problem with a rule as staff entered it; region is expected upper-case already. */
export function validateRule(input: RuleInput): string[] {
  const problems: string[] = [];
  if (!(FEATURES as readonly string[]).includes(input.feature)) problems.push(`feature must be one of ${FEATURES.join(', ')}`);
  if (input.region !== '*' && !REGION_PATTERN.test(input.region)) problems.push(`region must be '*' or an ISO 3166-1 alpha-2 code`);
  if (!(RULE_PLANS as readonly string[]).includes(input.plan)) problems.push(`plan must be one of ${RULE_PLANS.join(', ')}`);
  if (typeof input.enabled !== 'boolean') problems.push('enabled must be true or false');
  if (!Number.isInteger(input.percentage) || input.percentage < 0 || input.percentage > 100) problems.push('percentage must be a whole number from 0 to 100');
  return problems;
}
