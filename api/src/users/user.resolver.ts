import { Arg, Authorized, Ctx, Field, FieldResolver, InputType, Mutation, Query, Resolver } from 'type-graphql';
import { QuotaStatusType } from '../ai/ai.types';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { MeType, toMeView } from './user.type';

@InputType()
export class ProfileInput {
  @Field(() => String, { description: '1 to 50 characters' }) displayName: string;
  @Field(() => String, { description: '3 to 30 characters of a-z, 0-9, _ and .; unique' }) username: string;
  @Field(() => String, { description: 'An https URL' }) photoUrl: string;
}

@Resolver(() => MeType)
export class UserResolver {
  @Authorized()
  @Query(() => MeType, { description: 'The signed-in user' })
  me(@Ctx() ctx: Context): MeType {
    return toMeView(currentUser(ctx));
  }

  @Authorized()
  @Mutation(() => MeType, { description: 'Sets the public profile other members see; required before creating or joining groups' })
  async upsertProfile(@Arg('input', () => ProfileInput) input: ProfileInput, @Ctx() ctx: Context): Promise<MeType> {
    return toMeView(await ctx.services.users.upsertProfile(currentUser(ctx), input));
  }

  @FieldResolver(() => QuotaStatusType, { description: 'AI responses used and left in the current window' })
  async quota(@Ctx() ctx: Context): Promise<QuotaStatusType> {
    const user = currentUser(ctx);
    const status = await ctx.services.quota.status(user);
    return { plan: user.plan, windowSeconds: Math.round(ctx.services.quota.limitFor(user.plan).windowMs / 1000), ...status };
  }
}
