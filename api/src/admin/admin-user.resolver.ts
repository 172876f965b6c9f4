import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actorOf, currentStaff } from './admin-context';
import type { AdminContext } from './admin-context';
import { ListMetadata } from './admin.types';
import { AdminModelResponseView, AdminUserView, PlanLimitType, QuotaWindowType, UserFilter } from './admin-user.type';
import { ListArgs } from './list-query';

/**
 * Users and quotas: both roles read; only admins change accounts or quotas, suspensions
 * from a user's page included. Moderators suspend an author by deciding a case
 * (safety-case.resolver.ts).
 */
@Authorized()
@Resolver(() => AdminUserView)
export class AdminUserResolver {
  @Query(() => [AdminUserView], { description: 'sortField: createdAt (default, newest first), username, plan, region' })
  allUsers(@Args(() => ListArgs) args: ListArgs, @Arg('filter', () => UserFilter, { nullable: true }) filter: UserFilter | null, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.list(args, filter);
  }

  @Query(() => ListMetadata)
  async _allUsersMeta(@Args(() => ListArgs) _args: ListArgs, @Arg('filter', () => UserFilter, { nullable: true }) filter: UserFilter | null, @Ctx() ctx: AdminContext): Promise<ListMetadata> {
    return { count: await ctx.admin.users.count(filter) };
  }

  @Query(() => AdminUserView, { name: 'User', nullable: true })
  user(@Arg('id', () => ID) id: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.get(id);
  }

  @Query(() => [PlanLimitType])
  planLimits(@Ctx() ctx: AdminContext) {
    return ctx.admin.users.planLimits();
  }

  @Authorized('ADMIN')
  @Mutation(() => AdminUserView, { description: 'Forgives the AI responses charged so far (admin)' })
  resetQuota(@Arg('userId', () => ID) userId: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.resetQuota(userId, reason, actorOf(currentStaff(ctx)));
  }

  @Authorized('ADMIN')
  @Mutation(() => AdminUserView, { description: "From the user's page: the user can read but no longer write (admin; moderators suspend an author by deciding a case, SUSPEND_AUTHOR)" })
  suspendUser(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.setSuspended(id, true, reason, actorOf(currentStaff(ctx)));
  }

  @Authorized('ADMIN')
  @Mutation(() => AdminUserView, { description: 'Lifts a suspension, whichever way it was made (admin)' })
  unsuspendUser(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.setSuspended(id, false, reason, actorOf(currentStaff(ctx)));
  }

  @FieldResolver(() => [QuotaWindowType])
  quota(@Root() user: AdminUserView, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.quotaWindows(user);
  }

  @FieldResolver(() => [AdminModelResponseView], { description: 'Newest first; limit at most 100' })
  recentResponses(@Root() user: AdminUserView, @Arg('limit', () => Int, { defaultValue: 20 }) limit: number, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.recentResponses(user.id, limit);
  }
}
