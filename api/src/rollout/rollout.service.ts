/**
 * Rollout flags (PRODUCT.md §7): reads the rules for every check through a small
 * in-process cache, and changes them with an audit row in the same transaction.
 *
 * Rules are few, so each process keeps all of them. Every change notifies all processes
 * in its own transaction (see RolloutListener), and each drops its copy when told; a copy
 * older than `cacheMs` (at most a second) is re-read anyway, which bounds staleness should
 * a notification be missed. The process that makes a change drops its copy at once.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { effectiveRollout, Feature, RolloutDecision, RolloutRule, RolloutUser, RuleInput, validateRule } from '../domain/rollout/effective-rollout';
import { badInput, DomainError, notFound } from '../errors';
import { isUuid } from '../groups/group.policy';
import { ROLLOUT_CHANNEL } from './rollout-listener';

export interface RolloutRuleRow extends RolloutRule {
  id: string;
  updatedAt: Date;
  updatedBy: string;
}

export interface UpsertRuleInput extends RuleInput {
  /** Update this rule (its region or plan may change); without it the rule is matched by feature, region and plan. */
  id?: string | null;
}

export interface RolloutServiceOptions {
  /** How old the cached rules may get before they are read again; capped at 1000 ms. */
  cacheMs?: number;
  now?: () => number;
}

const MAX_CACHE_MS = 1000;

const RULE_COLUMNS = `id, feature, region, plan, enabled, percentage, updated_at AS "updatedAt", updated_by AS "updatedBy"`;

const UNAVAILABLE: Record<Feature, string> = {
  group_chats: 'Group chats are not available for your account yet',
  group_chats_ai: 'The AI in group chats is not available for your account yet',
};

type Action = 'CREATE' | 'UPDATE' | 'DELETE';

/** A change as it commits, for callers that record more in the same transaction (the staff audit). */
export interface RuleChange {
  action: Action;
  before: RolloutRuleRow | null;
  after: RolloutRuleRow | null;
}
export type OnRuleChange = (tx: EntityManager, change: RuleChange) => Promise<void>;

export class RolloutService {
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cache: { rules: readonly RolloutRuleRow[]; at: number } | null = null;
  private loading: { rules: Promise<readonly RolloutRuleRow[]>; at: number } | null = null;
  /** Bumped by every local change, so a read that started before it is not cached. */
  private generation = 0;

  constructor(
    private readonly db: DataSource,
    options: RolloutServiceOptions = {},
  ) {
    this.cacheMs = Math.max(0, Math.min(options.cacheMs ?? MAX_CACHE_MS, MAX_CACHE_MS));
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether `feature` is on for this user under the current rules. Inside a transaction,
   * pass its manager: a cache miss then reads through it instead of a second connection.
   */
  async evaluate(user: RolloutUser, feature: Feature, db?: EntityManager): Promise<RolloutDecision<RolloutRuleRow>> {
    return effectiveRollout(await this.rules(db), feature, user);
  }

  async allows(user: RolloutUser, feature: Feature, db?: EntityManager): Promise<boolean> {
    return (await this.evaluate(user, feature, db)).enabled;
  }

  /** Throws FEATURE_NOT_AVAILABLE when the user is outside the rollout of `feature`. */
  async check(user: RolloutUser, feature: Feature): Promise<void> {
    if (!(await this.allows(user, feature))) throw new DomainError('FEATURE_NOT_AVAILABLE', UNAVAILABLE[feature], { feature });
  }

  /** Every rule, at most `cacheMs` old. */
  rules(db?: EntityManager): Promise<readonly RolloutRuleRow[]> {
    const now = this.now();
    if (this.cache && now - this.cache.at < this.cacheMs) return Promise.resolve(this.cache.rules);
    const generation = this.generation;
    const read = (manager: EntityManager) =>
      this.readRules(manager).then((rules) => {
        if (generation === this.generation && (!this.cache || this.cache.at < now)) this.cache = { rules, at: now };
        return rules;
      });
    // A caller holding a transaction's connection must not wait for another one from the pool.
    if (db) return read(db);
    // Join a read under way only if it started recently enough to count as fresh.
    if (this.loading && now - this.loading.at < this.cacheMs) return this.loading.rules;
    const loading = { at: now, rules: read(this.db.manager) };
    this.loading = loading;
    const clear = () => {
      if (this.loading === loading) this.loading = null;
    };
    loading.rules.then(clear, clear);
    return loading.rules;
  }

  /** Drops this process's copy: the next check reads the rules again. */
  invalidate(): void {
    this.generation += 1;
    this.cache = null;
    this.loading = null;
  }

  /** Every rule, read now, by feature with the broadest rules first. */
  listRules(): Promise<RolloutRuleRow[]> {
    return this.readRules(this.db.manager);
  }

  /**
   * Creates a rule or changes one, by `id` or else by its feature, region and plan, and
   * records the change with `actor` in the same transaction.
   */
  async upsertRule(input: UpsertRuleInput, actor: string, onChange?: OnRuleChange): Promise<RolloutRuleRow> {
    const rule = normalize(input);
    const problems = validateRule(rule);
    if (problems.length) throw badInput(problems.join('; '));
    assertActor(actor);
    if (input.id != null && !isUuid(input.id)) throw notFound('Rollout rule');
    try {
      const saved = await this.db.transaction(async (tx) => {
        const values = [rule.feature, rule.region, rule.plan, rule.enabled, rule.percentage, actor];
        if (input.id == null) {
          const [created]: RolloutRuleRow[] = await tx.query(
            `INSERT INTO rollout_rules (feature, region, plan, enabled, percentage, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (feature, region, plan) DO NOTHING RETURNING ${RULE_COLUMNS}`,
            values,
          );
          if (created) return this.audit(tx, 'CREATE', null, created, actor, onChange);
        }
        // The row lock orders concurrent changes of one rule, so each audit row's `before` is exact.
        const [before]: RolloutRuleRow[] =
          input.id != null
            ? await tx.query(`SELECT ${RULE_COLUMNS} FROM rollout_rules WHERE id = $1 FOR UPDATE`, [input.id])
            : await tx.query(`SELECT ${RULE_COLUMNS} FROM rollout_rules WHERE feature = $1 AND region = $2 AND plan = $3 FOR UPDATE`, values.slice(0, 3));
        // Only reachable when the rule was deleted concurrently.
        if (!before) throw notFound('Rollout rule');
        const [after]: RolloutRuleRow[] = await tx.query(
          `WITH u AS (UPDATE rollout_rules SET feature = $1, region = $2, plan = $3, enabled = $4, percentage = $5, updated_by = $6, updated_at = now()
                        WHERE id = $7 RETURNING *)
           SELECT ${RULE_COLUMNS} FROM u`,
          [...values, before.id],
        );
        return this.audit(tx, 'UPDATE', before, after, actor, onChange);
      });
      return saved;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw badInput(`A rule for ${rule.feature}, region ${rule.region} and plan ${rule.plan} exists already`);
      throw err;
    } finally {
      this.invalidate();
    }
  }

  /** Deletes a rule and records it; returns the rule as it was. */
  async deleteRule(id: string, actor: string, onChange?: OnRuleChange): Promise<RolloutRuleRow> {
    assertActor(actor);
    if (!isUuid(id)) throw notFound('Rollout rule');
    try {
      return await this.db.transaction(async (tx) => {
        const [before]: RolloutRuleRow[] = await tx.query(
          `WITH d AS (DELETE FROM rollout_rules WHERE id = $1 RETURNING *) SELECT ${RULE_COLUMNS} FROM d`,
          [id],
        );
        if (!before) throw notFound('Rollout rule');
        await this.audit(tx, 'DELETE', before, null, actor, onChange);
        return before;
      });
    } finally {
      this.invalidate();
    }
  }

  private async audit(tx: EntityManager, action: Action, before: RolloutRuleRow | null, after: RolloutRuleRow | null, actor: string, onChange?: OnRuleChange): Promise<RolloutRuleRow> {
    const subject = (after ?? before)!;
    // clock_timestamp(), not now(): entries of one rule then sort in the order its row lock was granted.
    await tx.query(
      `INSERT INTO rollout_audit (rule_id, feature, region, plan, action, before, after, actor, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())`,
      [subject.id, subject.feature, subject.region, subject.plan, action, before && JSON.stringify(before), after && JSON.stringify(after), actor],
    );
    // Delivered to every listening process when (and only if) this transaction commits.
    await tx.query(`SELECT pg_notify($1, $2)`, [ROLLOUT_CHANNEL, subject.id]);
    await onChange?.(tx, { action, before, after });
    return subject;
  }

  private readRules(db: EntityManager): Promise<RolloutRuleRow[]> {
    return db.query(
      `SELECT ${RULE_COLUMNS} FROM rollout_rules
        ORDER BY feature, region <> '*', region, plan <> '*', plan`,
    );
  }
}

function normalize(input: RuleInput): RuleInput {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  return {
    feature: text(input.feature),
    region: text(input.region).toUpperCase(),
    plan: text(input.plan).toLowerCase(),
    enabled: input.enabled,
    percentage: input.percentage,
  };
}

function assertActor(actor: string): void {
  if (typeof actor !== 'string' || actor.trim() === '' || actor.length > 200) throw badInput('actor must be 1 to 200 characters', 'actor');
}
