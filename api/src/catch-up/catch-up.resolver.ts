import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { MembershipType } from '../groups/group.type';
import { CatchUpType } from './catch-up.type';

@Resolver(() => MembershipType)
export class CatchUpResolver {
  @Authorized()
  @Mutation(() => CatchUpType, {
    description:
      "Asks the AI, privately, what the viewer missed in a group: the messages after their read position. The summary streams to the viewer alone (CATCH_UP_DELTA, CATCH_UP_COMPLETED) and is charged to their quota like any AI reply; with nothing unread it answers at once, free. One at a time: while one is under way, asking again returns it.",
  })
  catchUp(@Arg('groupId', () => ID) groupId: string, @Ctx() ctx: Context): Promise<CatchUpType> {
    return ctx.services.catchUps.start(currentUser(ctx), groupId);
  }

  @FieldResolver(() => CatchUpType, { nullable: true, description: "The viewer's newest catch-up of this group, to read again" })
  lastCatchUp(@Root() membership: MembershipType, @Ctx() ctx: Context): Promise<CatchUpType | null> {
    return ctx.services.catchUps.last(currentUser(ctx).id, membership.groupId!);
  }
}
