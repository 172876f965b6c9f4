import { Arg, Args, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { AdminContext } from './admin-context';
import { ListMetadata } from './admin.types';
import { AdminModelResponseView, ModelResponseFilter } from './admin-user.type';
import { ListArgs } from './list-query';

/** AI responses, read-only. */
@Authorized()
@Resolver(() => AdminModelResponseView)
export class AdminModelResponseResolver {
  @Query(() => [AdminModelResponseView], { description: 'sortField: createdAt (default, newest first), model, plan, status, latencyMs' })
  allModelResponses(@Args(() => ListArgs) args: ListArgs, @Arg('filter', () => ModelResponseFilter, { nullable: true }) filter: ModelResponseFilter | null, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.listResponses(args, filter);
  }

  @Query(() => ListMetadata)
  async _allModelResponsesMeta(@Args(() => ListArgs) _args: ListArgs, @Arg('filter', () => ModelResponseFilter, { nullable: true }) filter: ModelResponseFilter | null, @Ctx() ctx: AdminContext): Promise<ListMetadata> {
    return { count: await ctx.admin.users.countResponses(filter) };
  }

  @Query(() => AdminModelResponseView, { name: 'ModelResponse', nullable: true })
  modelResponse(@Arg('id', () => ID) id: string, @Ctx() ctx: AdminContext) {
    return ctx.admin.users.response(id);
  }
}
