import { Arg, Args, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { actorOf, currentStaff } from './admin-context';
import type { AdminContext } from './admin-context';
import { ListMetadata } from './admin.types';
import { ListArgs } from './list-query';
import { RolloutGridType, RolloutRuleFilter, RolloutRuleType } from './rollout-admin.type';

const REASON = 'Why: required, 1 to 1000 characters, kept in the audit log';

/** Rollout rules: both roles read; only admins change them, each change with a reason. */
@Authorized()
@Resolver(() => RolloutRuleType)
export class RolloutRuleResolver {
  @Query(() => [RolloutRuleType], { description: 'sortField: feature (default), region, plan, enabled, percentage, updatedAt' })
  allRolloutRules(@Args(() => ListArgs) args: ListArgs, @Arg('filter', () => RolloutRuleFilter, { nullable: true }) filter: RolloutRuleFilter | null, @Ctx() ctx: AdminContext) {
    return ctx.admin.rollout.list(args, filter);
  }

  @Query(() => ListMetadata)
  async _allRolloutRulesMeta(@Args(() => ListArgs) _args: ListArgs, @Arg('filter', () => RolloutRuleFilter, { nullable: true }) filter: RolloutRuleFilter | null, @Ctx() ctx: AdminContext): Promise<ListMetadata> {
    return { count: await ctx.admin.rollout.count(filter) };
  }

  @Query(() => RolloutRuleType, { name: 'RolloutRule', nullable: true })
  rolloutRule(@Arg('id', () => ID) id: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.rollout.get(id);
  }

  @Query(() => RolloutGridType, { description: "Effective state per feature, region and plan; regions default to '*', the pilot regions (JP, KR, NZ, TW), rule regions and user regions" })
  rolloutGrid(@Arg('regions', () => [String], { nullable: true }) regions: string[] | null, @Ctx() ctx: AdminContext) {
    return ctx.admin.rollout.grid(regions);
  }

  @Authorized('ADMIN')
  @Mutation(() => RolloutRuleType)
  createRolloutRule(
    @Arg('feature', () => String) feature: string,
    @Arg('region', () => String) region: string,
    @Arg('plan', () => String) plan: string,
    @Arg('enabled', () => Boolean) enabled: boolean,
    @Arg('percentage', () => Int) percentage: number,
    @Arg('reason', () => String, { description: REASON }) reason: string,
    @Ctx() ctx: AdminContext,
  ) {
    return ctx.admin.rollout.create({ feature, region, plan, enabled, percentage }, reason, actorOf(currentStaff(ctx)));
  }

  @Authorized('ADMIN')
  @Mutation(() => RolloutRuleType, { description: 'Fields left out keep their values' })
  updateRolloutRule(
    @Arg('id', () => ID) id: string,
    @Arg('feature', () => String, { nullable: true }) feature: string | null,
    @Arg('region', () => String, { nullable: true }) region: string | null,
    @Arg('plan', () => String, { nullable: true }) plan: string | null,
    @Arg('enabled', () => Boolean, { nullable: true }) enabled: boolean | null,
    @Arg('percentage', () => Int, { nullable: true }) percentage: number | null,
    @Arg('reason', () => String, { description: REASON }) reason: string,
    @Ctx() ctx: AdminContext,
  ) {
    return ctx.admin.rollout.update(id, { feature, region, plan, enabled, percentage }, reason, actorOf(currentStaff(ctx)));
  }

  @Authorized('ADMIN')
  @Mutation(() => RolloutRuleType, { description: 'Returns the rule as it was' })
  deleteRolloutRule(@Arg('id', () => ID) id: string, @Arg('reason', () => String, { description: REASON }) reason: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.rollout.delete(id, reason, actorOf(currentStaff(ctx)));
  }

  @Authorized('ADMIN')
  @Mutation(() => RolloutRuleType, { description: "Turns a feature on (100%) or off in a whole region, every plan, through its (feature, region, '*') rule, created if missing; more specific rules still win" })
  setRegionRollout(
    @Arg('feature', () => String) feature: string,
    @Arg('region', () => String) region: string,
    @Arg('enabled', () => Boolean) enabled: boolean,
    @Arg('reason', () => String, { description: REASON }) reason: string,
    @Ctx() ctx: AdminContext,
  ) {
    return ctx.admin.rollout.switchRegion(feature, region, enabled, reason, actorOf(currentStaff(ctx)));
  }
}
