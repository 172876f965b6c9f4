/**
 * Rollout rules for staff: reads, the effective grid, and changes made through
 * RolloutService (so rollout_audit and the cache behave as for any change) with the
 * staff audit entry written in the same transaction.
 */
import type { DataSource } from 'typeorm';
import { effectiveGrid, FEATURES, REGION_PATTERN, RULE_PLANS } from '../domain/rollout/effective-rollout';
import { badInput, notFound } from '../errors';
import type { OnRuleChange, RolloutRuleRow, RolloutService } from '../rollout/rollout.service';
import { AuditActor, AuditAction, validReason, writeAudit } from './audit';
import { ListArgs, pageOf } from './list-query';
import type { RolloutCellType, RolloutGridType, RolloutRuleFilter } from './rollout-admin.type';

export interface RuleFields {
  feature: string;
  region: string;
  plan: string;
  enabled: boolean;
  percentage: number;
}

/** The reference rollout's pilot regions (docs/product.md §7): always on the grid, so staff can see them before any rule names them. */
const PILOT_REGIONS = ['JP', 'NZ', 'KR', 'TW'];

const SORTABLE = ['feature', 'region', 'plan', 'enabled', 'percentage', 'updatedAt'] as const;
const ACTION: Record<'CREATE' | 'UPDATE' | 'DELETE', AuditAction> = {
  CREATE: 'ROLLOUT_RULE_CREATED',
  UPDATE: 'ROLLOUT_RULE_UPDATED',
  DELETE: 'ROLLOUT_RULE_DELETED',
};

export class RolloutAdminService {
  constructor(
    private readonly db: DataSource,
    private readonly rollout: RolloutService,
  ) {}

  /** Rules are few: filtered, sorted and paged in memory. */
  async list(args: ListArgs, filter: RolloutRuleFilter | null | undefined): Promise<RolloutRuleRow[]> {
    const rules = this.filter(await this.rollout.listRules(), filter);
    const field = (args.sortField ?? 'feature') as (typeof SORTABLE)[number];
    if (!SORTABLE.includes(field)) throw badInput(`sortField must be one of ${SORTABLE.join(', ')}`, 'sortField');
    const order = (args.sortOrder ?? 'ASC').toUpperCase();
    if (order !== 'ASC' && order !== 'DESC') throw badInput('sortOrder must be ASC or DESC', 'sortOrder');
    const key = (r: RolloutRuleRow) => (field === 'updatedAt' ? r.updatedAt.getTime() : r[field]);
    const sorted = [...rules].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const c = x < y ? -1 : x > y ? 1 : a.id.localeCompare(b.id);
      return order === 'ASC' ? c : -c;
    });
    const { limit, offset } = pageOf(args);
    return sorted.slice(offset, offset + limit);
  }

  async count(filter: RolloutRuleFilter | null | undefined): Promise<number> {
    return this.filter(await this.rollout.listRules(), filter).length;
  }

  async get(id: string): Promise<RolloutRuleRow | null> {
    return (await this.rollout.listRules()).find((r) => r.id === id) ?? null;
  }

  /** Every change takes a reason (required, trimmed, 1–1000 characters), kept on its audit entry like a quota reset's. */
  async create(fields: RuleFields, reason: string, actor: AuditActor): Promise<RolloutRuleRow> {
    const text = validReason(reason);
    return this.rollout.upsertRule({ ...fields, id: null }, actor.actorEmail, this.audit(actor, text, 'CREATE'));
  }

  /** Fields left out keep their current values. */
  async update(id: string, fields: { [K in keyof RuleFields]?: RuleFields[K] | null }, reason: string, actor: AuditActor): Promise<RolloutRuleRow> {
    const text = validReason(reason);
    const current = await this.get(id);
    if (!current) throw notFound('Rollout rule');
    const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));
    const merged = { feature: current.feature, region: current.region, plan: current.plan, enabled: current.enabled, percentage: current.percentage, ...defined };
    return this.rollout.upsertRule({ ...merged, id }, actor.actorEmail, this.audit(actor, text, 'UPDATE'));
  }

  async delete(id: string, reason: string, actor: AuditActor): Promise<RolloutRuleRow> {
    const text = validReason(reason);
    return this.rollout.deleteRule(id, actor.actorEmail, this.audit(actor, text, 'DELETE'));
  }

  /**
   * Turns a feature on (100%) or off for a whole region, every plan: its (feature, region, '*')
   * rule is created or changed in one transaction, whichever it takes, so two staff members
   * switching at once cannot collide on a create. More specific rules of the region still win.
   */
  async switchRegion(feature: string, region: string, enabled: boolean, reason: string, actor: AuditActor): Promise<RolloutRuleRow> {
    const text = validReason(reason);
    return this.rollout.upsertRule({ feature, region, plan: '*', enabled, percentage: 100, id: null }, actor.actorEmail, this.audit(actor, text, null, { wholeRegion: true }));
  }

  /**
   * The effective state per feature, region and plan. Regions default to '*', the pilot
   * regions, every region a rule names, and every region users come from.
   */
  async grid(regionsArg: string[] | null | undefined): Promise<RolloutGridType> {
    const rules = await this.rollout.listRules();
    let regions: string[];
    if (regionsArg && regionsArg.length) {
      regions = [...new Set(regionsArg.map((r) => r.trim().toUpperCase()))];
      const bad = regions.filter((r) => r !== '*' && !REGION_PATTERN.test(r));
      if (bad.length) throw badInput(`regions must be '*' or ISO 3166-1 alpha-2 codes: ${bad.join(', ')}`, 'regions');
    } else {
      const fromUsers: Array<{ region: string }> = await this.db.query(`SELECT DISTINCT region FROM users WHERE region IS NOT NULL`);
      regions = [...new Set(['*', ...PILOT_REGIONS, ...rules.map((r) => r.region), ...fromUsers.map((u) => u.region)])].sort();
    }
    const cells: RolloutCellType[] = FEATURES.flatMap((feature) =>
      effectiveGrid(rules, feature, regions, RULE_PLANS).map((c) => ({
        feature,
        region: c.region,
        plan: c.plan,
        enabled: c.state !== 'off',
        percentage: c.percentage,
        ruleId: c.rule?.id ?? null,
        ruleRegion: c.rule?.region ?? null,
        rulePlan: c.rule?.plan ?? null,
      })),
    );
    return { features: [...FEATURES], regions, plans: [...RULE_PLANS], cells };
  }

  /**
   * Writes the staff audit entry, with its reason, inside RolloutService's transaction; a
   * create that met an existing rule is refused (`expected` null: either is fine).
   */
  private audit(actor: AuditActor, reason: string, expected: 'CREATE' | 'UPDATE' | 'DELETE' | null, extra: Record<string, unknown> = {}): OnRuleChange {
    return async (tx, change) => {
      if (expected === 'CREATE' && change.action !== 'CREATE') {
        const r = change.after!;
        throw badInput(`A rule for ${r.feature}, region ${r.region} and plan ${r.plan} exists already`);
      }
      const subject = (change.after ?? change.before)!;
      await writeAudit(tx, actor, { action: ACTION[change.action], targetType: 'RolloutRule', targetId: subject.id, reason, details: { ...extra, before: change.before, after: change.after } });
    };
  }

  private filter(rules: readonly RolloutRuleRow[], f: RolloutRuleFilter | null | undefined): RolloutRuleRow[] {
    if (!f) return [...rules];
    return rules.filter(
      (r) =>
        (!f.ids || f.ids.includes(r.id)) &&
        (f.feature == null || r.feature === f.feature) &&
        (f.region == null || r.region === f.region.toUpperCase()) &&
        (f.plan == null || r.plan === f.plan.toLowerCase()),
    );
  }
}
