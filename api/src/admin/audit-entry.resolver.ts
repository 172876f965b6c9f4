import { Arg, Args, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { AdminContext } from './admin-context';
import { ListMetadata } from './admin.types';
import { AuditEntryFilter, AuditEntryType, DashboardType } from './audit-log.type';
import { ListArgs } from './list-query';

/** The audit log (read-only) and the dashboard. */
@Authorized()
@Resolver(() => AuditEntryType)
export class AuditEntryResolver {
  @Query(() => [AuditEntryType], { description: 'sortField: createdAt (default, newest first), action, actorEmail, targetType' })
  allAuditEntries(@Args(() => ListArgs) args: ListArgs, @Arg('filter', () => AuditEntryFilter, { nullable: true }) filter: AuditEntryFilter | null, @Ctx() ctx: AdminContext) {
    return ctx.admin.audit.list(args, filter);
  }

  @Query(() => ListMetadata)
  async _allAuditEntriesMeta(@Args(() => ListArgs) _args: ListArgs, @Arg('filter', () => AuditEntryFilter, { nullable: true }) filter: AuditEntryFilter | null, @Ctx() ctx: AdminContext): Promise<ListMetadata> {
    return { count: await ctx.admin.audit.count(filter) };
  }

  @Query(() => AuditEntryType, { name: 'AuditEntry', nullable: true })
  auditEntry(@Arg('id', () => ID) id: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.audit.get(id);
  }

  @Query(() => DashboardType)
  dashboard(@Ctx() ctx: AdminContext) {
    return ctx.admin.audit.dashboard();
  }
}
