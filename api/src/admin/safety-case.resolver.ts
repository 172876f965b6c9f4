import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actorOf, currentStaff } from './admin-context';
import type { AdminContext } from './admin-context';
import { ListMetadata } from './admin.types';
import { AdminUserView } from './admin-user.type';
import { ListArgs } from './list-query';
import { CaseDecisionEnum, CaseMessageType, CaseSourceType, SafetyCaseFilter, SafetyCaseType } from './safety-case.type';

/** The review queue; both roles read and decide cases, suspending the author (SUSPEND_AUTHOR) included. */
@Authorized()
@Resolver(() => SafetyCaseType)
export class SafetyCaseResolver {
  @Query(() => [SafetyCaseType], { description: 'sortField: priority (default: teen first, then severity, then oldest), createdAt, severity, status' })
  allSafetyCases(@Args(() => ListArgs) args: ListArgs, @Arg('filter', () => SafetyCaseFilter, { nullable: true }) filter: SafetyCaseFilter | null, @Ctx() ctx: AdminContext) {
    return ctx.admin.cases.list(args, filter);
  }

  @Query(() => ListMetadata)
  async _allSafetyCasesMeta(@Args(() => ListArgs) _args: ListArgs, @Arg('filter', () => SafetyCaseFilter, { nullable: true }) filter: SafetyCaseFilter | null, @Ctx() ctx: AdminContext): Promise<ListMetadata> {
    return { count: await ctx.admin.cases.count(filter) };
  }

  @Query(() => SafetyCaseType, { name: 'SafetyCase', nullable: true })
  safetyCase(@Arg('id', () => ID) id: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.cases.get(id);
  }

  @Mutation(() => SafetyCaseType, {
    description: "Decides an open case (moderators and admins; SUSPEND_AUTHOR suspends the case's author); a decided case cannot be decided again (BAD_USER_INPUT)",
  })
  decideSafetyCase(
    @Arg('id', () => ID) id: string,
    @Arg('decision', () => CaseDecisionEnum) decision: CaseDecisionEnum,
    @Arg('reason', () => String) reason: string,
    @Ctx() ctx: AdminContext,
  ) {
    return ctx.admin.cases.decide(id, decision, reason, actorOf(currentStaff(ctx)));
  }

  @FieldResolver(() => AdminUserView, { nullable: true })
  author(@Root() c: SafetyCaseType, @Ctx() ctx: AdminContext) {
    return c.authorId ? ctx.admin.users.get(c.authorId) : null;
  }

  @FieldResolver(() => [CaseSourceType], { description: 'What raised the case and what joined it, oldest first' })
  sources(@Root() c: SafetyCaseType, @Ctx() ctx: AdminContext) {
    return ctx.admin.cases.sources(c);
  }

  @FieldResolver(() => Int, { description: 'Days a decided case keeps its evidence (SAFETY_EVIDENCE_RETENTION_DAYS)' })
  evidenceRetentionDays(@Ctx() ctx: AdminContext): number {
    return ctx.services.config.safetyEvidenceRetentionDays;
  }

  @FieldResolver(() => CaseMessageType, { nullable: true, description: 'The flagged message; null when it is gone' })
  async message(@Root() c: SafetyCaseType, @Ctx() ctx: AdminContext): Promise<CaseMessageType | null> {
    return (await ctx.admin.cases.context(c)).find((m) => m.flagged) ?? null;
  }

  @FieldResolver(() => [CaseMessageType], { description: 'Up to 3 messages before and after the flagged one, by seq, the flagged one included' })
  context(@Root() c: SafetyCaseType, @Ctx() ctx: AdminContext) {
    return ctx.admin.cases.context(c);
  }
}
