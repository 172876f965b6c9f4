/**
 * The plans a user can be on (docs/product.md §1: the identity provider's `plan` claim),
 * cheapest first. Quotas, model routing and rollout rules are set per plan.
 */
export const PLANS = ['free', 'go', 'plus', 'pro'] as const;
export type Plan = (typeof PLANS)[number];

export const isPlan = (value: string): value is Plan => (PLANS as readonly string[]).includes(value);
