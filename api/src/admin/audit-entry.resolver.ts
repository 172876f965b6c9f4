import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { AdminContext } from './admin-context';
import { ListMetadata } from './admin.types';
import { fallbackLabel, readableDetails } from './audit-details';
import { AuditDetailType, AuditEntryFilter, AuditEntryType, DashboardType } from './audit-log.type';
import { targetKey } from './audit-targets';
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

  @FieldResolver(() => String, { description: "The target by name: a user's @username, a group's title, a rule's feature/region/plan, a case's excerpt, a staff email; what the entry remembers, marked deleted, once the target is gone" })
  async targetLabel(@Root() entry: AuditEntryType, @Ctx() ctx: AdminContext): Promise<string> {
    const key = targetKey(entry.targetType, entry.targetId);
    return (key && (await ctx.loaders.auditTarget.load(key))) ?? fallbackLabel(entry.targetType, entry.targetId, entry.details);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the target still exists' })
  async targetExists(@Root() entry: AuditEntryType, @Ctx() ctx: AdminContext): Promise<boolean> {
    const key = targetKey(entry.targetType, entry.targetId);
    return key !== null && (await ctx.loaders.auditTarget.load(key)) !== null;
  }

  @FieldResolver(() => [AuditDetailType], { description: 'details as name/value pairs; a rule change lists what changed, e.g. percentage "30% → 60%"' })
  detailFields(@Root() entry: AuditEntryType): AuditDetailType[] {
    return readableDetails(entry.details);
  }

  @Query(() => DashboardType)
  dashboard(@Ctx() ctx: AdminContext) {
    return ctx.admin.audit.dashboard();
  }
}
