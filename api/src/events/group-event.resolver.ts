import { Arg, Authorized, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { badInput } from '../errors';
import { requireMembership } from '../groups/group.policy';
import { GroupEventType } from './group-event.type';

interface GroupEventsArgs {
  groupId: string;
  afterSeq?: number | null;
}

@Resolver()
export class GroupEventResolver {
  @Authorized()
  @Subscription(() => GroupEventType, {
    description:
      'Every event of a group. With afterSeq, missed events are replayed first, in order, with no gap or duplicate. ' +
      'Ends when the viewer leaves or is removed.',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { groupId, afterSeq } = args as GroupEventsArgs;
      const user = currentUser(ctx);
      if (afterSeq !== undefined && afterSeq !== null && afterSeq < 0) throw badInput('afterSeq must not be negative', 'afterSeq');
      const { lastSeq } = await requireMembership(ctx.services.db.manager, groupId, user.id);
      if (afterSeq != null && afterSeq > lastSeq) throw badInput(`afterSeq is ahead of the group (last seq ${lastSeq})`, 'afterSeq');
      return ctx.services.hub.subscribe({ userId: user.id, groupId, afterSeq: afterSeq ?? null, checkedAtSeq: lastSeq });
    },
  })
  groupEvents(
    @Root() event: GroupEventType,
    @Arg('groupId', () => ID) _groupId: string,
    @Arg('afterSeq', () => Int, { nullable: true }) _afterSeq?: number | null,
  ): GroupEventType {
    return event;
  }
}
