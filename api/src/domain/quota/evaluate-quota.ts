/**
 * AI-response quotas per plan over a rolling window (docs/product.md §4). Pure: the clock and
 * the usage are passed in. Only AI responses count; human messages never do.
 */
import { isPlan, Plan, PLANS } from '../plan';

export interface QuotaLimit {
  /** AI responses allowed within any window. */
  max: number;
  windowMs: number;
}

export interface QuotaStatus {
  limit: number;
  used: number;
  remaining: number;
  /** When a unit frees up again: the oldest counted usage leaving the window. Null when nothing is used (or the limit is 0). */
  resetsAt: Date | null;
  exhausted: boolean;
}

const HOUR = 3_600_000;

/**
 * Defaults in the spirit of Free < Go < Plus < Pro: Free 10 and Go 40 responses per 5
 * hours, Plus 80 and Pro 1000 per 3 hours (Pro is practically unlimited for a person in
 * a chat). Overridden by configuration through `parseQuotaConfig`.
 */
export const DEFAULT_QUOTA_LIMITS: Readonly<Record<Plan, QuotaLimit>> = {
  free: { max: 10, windowMs: 5 * HOUR },
  go: { max: 40, windowMs: 5 * HOUR },
  plus: { max: 80, windowMs: 3 * HOUR },
  pro: { max: 1000, windowMs: 3 * HOUR },
};

const ms = (t: Date | number): number => (typeof t === 'number' ? t : t.getTime());

/**
 * The quota state at `now`. `usage` holds the times of charged or reserved responses,
 * in any order; those within the last `windowMs` count (a reservation stamped slightly
 * in the future by clock skew counts too). When more is used than allowed, as after a
 * limit was lowered, `resetsAt` is when enough usage has left for one unit to be free.
 */
export function evaluateQuota(usage: readonly (Date | number)[], limit: QuotaLimit, now: Date | number): QuotaStatus {
  const start = ms(now) - limit.windowMs;
  const counted = usage
    .map(ms)
    .filter((t) => t > start)
    .sort((a, b) => a - b);
  const used = counted.length;
  const remaining = Math.max(0, limit.max - used);
  const exhausted = remaining === 0;
  let resetsAt: Date | null = null;
  // A limit of 0 never frees a unit, so it has no reset time.
  if (used > 0 && limit.max > 0) {
    // Over the limit by n, the (n + 1)th oldest must leave before one unit is free.
    const index = exhausted ? used - limit.max : 0;
    resetsAt = new Date(counted[index] + limit.windowMs);
  }
  return { limit: limit.max, used, remaining, resetsAt, exhausted };
}

export type QuotaConfigResult = { ok: true; limits: Record<Plan, QuotaLimit> } | { ok: false; problems: string[] };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR, d: 24 * HOUR };

/** "5h", "90m", "1d", "30s", "1500ms" into milliseconds; null when malformed or zero. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  const value = Number(m[1]) * UNIT_MS[m[2]];
  return value > 0 && Number.isSafeInteger(value) ? value : null;
}

/**
 * Reads a quota setting such as "free=10/5h,go=40/5h,plus=80/3h,pro=1000/3h". Plans it
 * does not name keep their defaults; an empty string means all defaults. Every problem
 * is reported, not just the first.
 */
export function parseQuotaConfig(text: string, defaults: Readonly<Record<Plan, QuotaLimit>> = DEFAULT_QUOTA_LIMITS): QuotaConfigResult {
  const limits = { ...defaults } as Record<Plan, QuotaLimit>;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^([a-z]+)\s*=\s*([^/\s]+)\s*\/\s*(\S+)$/i.exec(entry);
    if (!m) {
      problems.push(`"${entry}": expected plan=max/window, e.g. free=10/5h`);
      continue;
    }
    const plan = m[1].toLowerCase();
    if (!isPlan(plan)) {
      problems.push(`"${entry}": unknown plan "${m[1]}" (expected one of ${PLANS.join(', ')})`);
      continue;
    }
    if (seen.has(plan)) problems.push(`"${entry}": plan ${plan} is set more than once`);
    seen.add(plan);
    const max = /^\d+$/.test(m[2]) ? Number(m[2]) : NaN;
    if (!Number.isSafeInteger(max)) problems.push(`"${entry}": max must be a whole number of responses, 0 or more`);
    const windowMs = parseDuration(m[3]);
    if (windowMs === null) problems.push(`"${entry}": window must be a positive duration such as 30m, 5h or 1d`);
    if (Number.isSafeInteger(max) && windowMs !== null) limits[plan] = { max, windowMs };
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, limits };
}
