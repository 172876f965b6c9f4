/**
 * How an audit entry reads to staff: its target named (not a truncated id) and its
 * details as name/value pairs instead of raw JSON. Pure: the live names come in from
 * the target loader (audit-targets.ts); what is here works from the entry alone.
 */

export interface DetailField {
  name: string;
  value: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The fields of a rollout rule that say what it does, in reading order. */
const RULE_FIELDS = ['feature', 'region', 'plan', 'enabled', 'percentage'] as const;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "usedBefore" → "used before", "wholeRegion" → "whole region". */
export function humanName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
}

function text(value: Json | undefined): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length ? value.map(text).join(', ') : '—';
  if (isObject(value)) return JSON.stringify(value);
  return String(value);
}

function ruleValue(key: string, value: Json | undefined): string {
  if (key === 'enabled' && typeof value === 'boolean') return value ? 'on' : 'off';
  if (key === 'percentage' && typeof value === 'number') return `${value}%`;
  return text(value);
}

/** A rule's `feature/region/plan`, or null when `rule` does not look like one. */
export function ruleName(rule: unknown): string | null {
  if (!isObject(rule)) return null;
  const { feature, region, plan } = rule;
  return typeof feature === 'string' && typeof region === 'string' && typeof plan === 'string' ? `${feature}/${region}/${plan}` : null;
}

/** A rollout change: what changed (update), what it was created with, or what was deleted. */
function ruleChange(before: Json | undefined, after: Json | undefined): DetailField[] {
  if (isObject(before) && isObject(after)) {
    const changed = RULE_FIELDS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (changed.length === 0) return [{ name: 'change', value: 'none (saved as it was)' }];
    return changed.map((k) => ({ name: k, value: `${ruleValue(k, before[k])} → ${ruleValue(k, after[k])}` }));
  }
  const rule = isObject(after) ? after : isObject(before) ? before : null;
  if (!rule) return [];
  return RULE_FIELDS.map((k) => ({ name: isObject(after) ? k : `${k} (was)`, value: ruleValue(k, rule[k]) }));
}

function flatten(prefix: string, value: Json, out: DetailField[]): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix} ${humanName(k)}` : humanName(k), v, out);
    return;
  }
  out.push({ name: prefix, value: text(value) });
}

/** The details of an entry (its JSON text) as name/value pairs; text that is not a JSON object is one "details" field. */
export function readableDetails(details: string | null): DetailField[] {
  if (!details) return [];
  let parsed: Json;
  try {
    parsed = JSON.parse(details);
  } catch {
    return [{ name: 'details', value: details }];
  }
  if (!isObject(parsed)) return parsed === null ? [] : [{ name: 'details', value: text(parsed) }];
  const { before, after, ...rest } = parsed;
  const out = 'before' in parsed || 'after' in parsed ? ruleChange(before, after) : [];
  for (const [k, v] of Object.entries(rest)) flatten(humanName(k), v, out);
  return out;
}

/**
 * The name of a target that no longer exists (or never resolved): what the entry itself
 * remembers, e.g. a deleted rule's `feature/region/plan`, else its type and short id.
 */
export function fallbackLabel(targetType: string, targetId: string | null, details: string | null): string {
  let parsed: unknown = null;
  try {
    parsed = details ? JSON.parse(details) : null;
  } catch {
    /* not JSON: nothing to remember */
  }
  if (targetType === 'RolloutRule' && isObject(parsed)) {
    const name = ruleName(parsed.after) ?? ruleName(parsed.before);
    if (name) return `${name} (deleted)`;
  }
  if (targetType === 'Staff' && isObject(parsed) && typeof parsed.email === 'string') return `${parsed.email} (deleted)`;
  if (!targetId) return targetType;
  return `${targetType} ${targetId.length > 12 ? `${targetId.slice(0, 8)}…` : targetId} (no longer exists)`;
}
