import { Arg, Authorized, Ctx, Field, FieldResolver, GraphQLISODateTime, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { badInput } from '../errors';
import { UserType } from '../users/user.type';
import { AiModeEnum, GroupMemberType, GroupType, MembershipType, toGroupView } from './group.type';

@InputType()
export class CreateGroupInput {
  @Field(() => String) title: string;
  @Field(() => [String], { nullable: true, description: 'Usernames of the first members besides the creator' }) memberUsernames?: string[] | null;
  @Field(() => ID, { nullable: true, description: 'Start from a copy of this private conversation' }) fromConversationId?: string | null;
}

@InputType()
export class UpdateGroupInput {
  @Field(() => String, { nullable: true }) title?: string | null;
  @Field(() => String, { nullable: true }) customInstructions?: string | null;
  @Field(() => AiModeEnum, { nullable: true }) aiMode?: AiModeEnum | null;
}

@ObjectType('GroupEdge', { simpleResolvers: true })
class GroupEdge {
  @Field(() => String) cursor: string;
  @Field(() => GroupType) node: GroupType;
}

@ObjectType('PageInfo', { simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean) hasNextPage: boolean;
  @Field(() => Boolean) hasPreviousPage: boolean;
  @Field(() => String, { nullable: true }) startCursor: string | null;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType('GroupConnection', { simpleResolvers: true })
class GroupConnection {
  @Field(() => [GroupEdge]) edges: GroupEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

const MAX_GROUP_PAGE = 100;

@Resolver(() => GroupType)
export class GroupResolver {
  @Authorized()
  @Query(() => GroupType, { description: 'A group the caller belongs to; NOT_FOUND otherwise' })
  async group(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.groups.getForMember(currentUser(ctx), id));
  }

  @Authorized()
  @Query(() => GroupConnection, { description: "The caller's groups, most recently active first" })
  async groups(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<GroupConnection> {
    if (first < 1 || first > MAX_GROUP_PAGE) throw badInput(`first must be from 1 to ${MAX_GROUP_PAGE}`, 'first');
    const page = await ctx.services.groups.listForUser(currentUser(ctx), first, after ?? null);
    const edges = page.items.map((i) => ({ cursor: i.cursor, node: toGroupView(i.node) }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasMore, hasPreviousPage: !!after, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Authorized()
  @Mutation(() => GroupType)
  async createGroup(@Arg('input', () => CreateGroupInput) input: CreateGroupInput, @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.groups.create(currentUser(ctx), input));
  }

  @Authorized()
  @Mutation(() => GroupType, { description: 'Title, custom instructions for the AI, AI mode; any member may change them' })
  async updateGroup(@Arg('groupId', () => ID) groupId: string, @Arg('input', () => UpdateGroupInput) input: UpdateGroupInput, @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.groups.update(currentUser(ctx), groupId, input));
  }

  @Authorized()
  @Mutation(() => GroupType)
  async addMembers(@Arg('groupId', () => ID) groupId: string, @Arg('usernames', () => [String]) usernames: string[], @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.groups.addMembers(currentUser(ctx), groupId, usernames));
  }

  @Authorized()
  @Mutation(() => GroupType, { description: 'Any member can remove another, except the owner' })
  async removeMember(@Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.groups.removeMember(currentUser(ctx), groupId, userId));
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Leaving hands ownership to the longest-standing member; the last one out closes the group' })
  async leaveGroup(@Arg('groupId', () => ID) groupId: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.groups.leave(currentUser(ctx), groupId);
  }

  @Authorized()
  @Mutation(() => GroupType, { description: 'The owner hands the group over to another member' })
  async transferOwnership(@Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.groups.transferOwnership(currentUser(ctx), groupId, userId));
  }

  @Authorized()
  @Mutation(() => MembershipType, { description: 'Mute until a time, or forever; with neither, unmute' })
  async muteGroup(
    @Arg('groupId', () => ID) groupId: string,
    @Ctx() ctx: Context,
    @Arg('until', () => GraphQLISODateTime, { nullable: true }) until?: Date | null,
    @Arg('forever', () => Boolean, { defaultValue: false }) forever?: boolean,
  ): Promise<MembershipType> {
    await ctx.services.groups.mute(currentUser(ctx), groupId, until ?? null, forever ?? false);
    return (await ctx.loaders.myMembership.load(groupId))!;
  }

  @FieldResolver(() => [GroupMemberType], { description: 'Everyone in a group can see who is in it' })
  members(@Root() group: GroupType, @Ctx() ctx: Context): Promise<GroupMemberType[]> {
    return ctx.loaders.members.load(group.id);
  }

  @FieldResolver(() => UserType, { nullable: true })
  async owner(@Root() group: GroupType, @Ctx() ctx: Context): Promise<UserType | null> {
    const members = await ctx.loaders.members.load(group.id);
    return members.find((m) => m.user.id === group.ownerId)?.user ?? null;
  }

  @FieldResolver(() => MembershipType, { nullable: true, description: "The viewer's own mute state, read position and unread count" })
  myMembership(@Root() group: GroupType, @Ctx() ctx: Context): Promise<MembershipType | null> {
    return ctx.loaders.myMembership.load(group.id);
  }
}
