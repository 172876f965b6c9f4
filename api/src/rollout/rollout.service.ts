/**
 * Rollout flags (docs/product.md §7): reads the rules for every check through a small
 * in-process cache, and changes them with an audit row in the same transaction.
 *
 * Rules are few, so each process keeps all of them with the version they were read at.
 * Every change bumps the version in its own transaction; every check reads the version
 * (one row by key, or taken from a statement the caller runs anyway) and reads the rules
 * again only when it moved. So a change applies in every process on its next request.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { effectiveRollout, Feature, RolloutDecision, RolloutRule, RolloutUser, RuleInput, validateRule } from '../domain/rollout/effective-rollout';
import { badInput, DomainError, notFound } from '../errors';
import { isUuid } from '../groups/group.policy';

export interface RolloutRuleRow extends RolloutRule {
  id: string;
  updatedAt: Date;
  updatedBy: string;
}

export interface UpsertRuleInput extends RuleInput {
  /** Update this rule (its region or plan may change); without it the rule is matched by feature, region and plan. */
  id?: string | null;
}

/** Where a check gets the rules' version and, on a miss, the rules. */
export interface RuleSource {
  /** A transaction's manager: reads go through its connection instead of a second one. */
  db?: EntityManager;
  /** The version as the caller read it in a statement of its own; nothing is read while it matches. */
  version?: number;
}

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
  private cache: { rules: readonly RolloutRuleRow[]; version: number } | null = null;

  constructor(private readonly db: DataSource) {}

  /** Whether `feature` is on for this user under the rules as they are now. */
  async evaluate(user: RolloutUser, feature: Feature, from: RuleSource = {}): Promise<RolloutDecision<RolloutRuleRow>> {
    return effectiveRollout(await this.rules(from), feature, user);
  }

  async allows(user: RolloutUser, feature: Feature, from: RuleSource = {}): Promise<boolean> {
    return (await this.evaluate(user, feature, from)).enabled;
  }

  /** `allows` for several users under one reading of the rules (one round trip, and one query at a time on a transaction). */
  async allowsEach(users: readonly RolloutUser[], feature: Feature, from: RuleSource = {}): Promise<boolean[]> {
    if (users.length === 0) return [];
    const rules = await this.rules(from);
    return users.map((user) => effectiveRollout(rules, feature, user).enabled);
  }

  /** Throws FEATURE_NOT_AVAILABLE when the user is outside the rollout of `feature`. */
  async check(user: RolloutUser, feature: Feature): Promise<void> {
    if (!(await this.allows(user, feature))) throw new DomainError('FEATURE_NOT_AVAILABLE', UNAVAILABLE[feature], { feature });
  }

  /**
   * The current rules: this process's copy while the rules' version still matches, else
   * read again. The version is read before the rules, so a change committing in between
   * leaves a copy that looks older than it is (read again next time), never newer.
   */
  async rules({ db, version }: RuleSource = {}): Promise<readonly RolloutRuleRow[]> {
    const manager = db ?? this.db.manager;
    const current = version ?? (await readVersion(manager));
    if (this.cache?.version === current) return this.cache.rules;
    const rules = await this.readRules(manager);
    if (!this.cache || current > this.cache.version) this.cache = { rules, version: current };
    return rules;
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
      return await this.db.transaction(async (tx) => {
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
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw badInput(`A rule for ${rule.feature}, region ${rule.region} and plan ${rule.plan} exists already`);
      throw err;
    }
  }

  /** Deletes a rule and records it; returns the rule as it was. */
  async deleteRule(id: string, actor: string, onChange?: OnRuleChange): Promise<RolloutRuleRow> {
    assertActor(actor);
    if (!isUuid(id)) throw notFound('Rollout rule');
    return this.db.transaction(async (tx) => {
      const [before]: RolloutRuleRow[] = await tx.query(
        `WITH d AS (DELETE FROM rollout_rules WHERE id = $1 RETURNING *) SELECT ${RULE_COLUMNS} FROM d`,
        [id],
      );
      if (!before) throw notFound('Rollout rule');
      await this.audit(tx, 'DELETE', before, null, actor, onChange);
      return before;
    });
  }

  private async audit(tx: EntityManager, action: Action, before: RolloutRuleRow | null, after: RolloutRuleRow | null, actor: string, onChange?: OnRuleChange): Promise<RolloutRuleRow> {
    const subject = (after ?? before)!;
    // clock_timestamp(), not now(): entries of one rule then sort in the order its row lock was granted.
    await tx.query(
      `INSERT INTO rollout_audit (rule_id, feature, region, plan, action, before, after, actor, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())`,
      [subject.id, subject.feature, subject.region, subject.plan, action, before && JSON.stringify(before), after && JSON.stringify(after), actor],
    );
    // Every process sees the new version on its next check, and reads the rules again.
    await tx.query(`UPDATE rollout_state SET version = version + 1`);
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

/** The rules' version (see the rollout_state migration). */
export async function readVersion(db: EntityManager): Promise<number> {
  const [row]: Array<{ version: string }> = await db.query(`SELECT version FROM rollout_state`);
  return Number(row.version);
}
