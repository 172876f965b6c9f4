import { Arg, Authorized, Ctx, Field, GraphQLISODateTime, ID, InputType, Int, Mutation, Query, Resolver } from 'type-graphql';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { GroupType, toGroupView } from '../groups/group.type';
import { InvitePreviewType, InviteType } from './invite.type';

@InputType()
export class CreateInviteInput {
  @Field(() => GraphQLISODateTime, { nullable: true }) expiresAt?: Date | null;
  @Field(() => Int, { nullable: true }) maxUses?: number | null;
}

@Resolver()
export class InviteResolver {
  @Authorized()
  @Mutation(() => InviteType, { description: 'A new invite link; the token is shown only here' })
  createInvite(
    @Arg('groupId', () => ID) groupId: string,
    @Ctx() ctx: Context,
    @Arg('input', () => CreateInviteInput, { nullable: true }) input?: CreateInviteInput | null,
  ): Promise<InviteType> {
    return ctx.services.invites.create(currentUser(ctx), groupId, input ?? {});
  }

  @Authorized()
  @Mutation(() => InviteType, { description: 'Revokes every earlier invite of the group and returns a fresh one' })
  resetInvites(
    @Arg('groupId', () => ID) groupId: string,
    @Ctx() ctx: Context,
    @Arg('input', () => CreateInviteInput, { nullable: true }) input?: CreateInviteInput | null,
  ): Promise<InviteType> {
    return ctx.services.invites.reset(currentUser(ctx), groupId, input ?? {});
  }

  @Authorized()
  @Query(() => InvitePreviewType)
  invitePreview(@Arg('token', () => String) token: string, @Ctx() ctx: Context): Promise<InvitePreviewType> {
    return ctx.services.invites.preview(currentUser(ctx), token);
  }

  @Authorized()
  @Mutation(() => GroupType)
  async joinGroup(@Arg('token', () => String) token: string, @Ctx() ctx: Context): Promise<GroupType> {
    return toGroupView(await ctx.services.invites.join(currentUser(ctx), token));
  }
}
