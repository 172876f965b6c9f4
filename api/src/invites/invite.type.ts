import { Field, GraphQLISODateTime, ID, Int, ObjectType } from 'type-graphql';
import { UserType } from '../users/user.type';

@ObjectType('Invite', { simpleResolvers: true })
export class InviteType {
  @Field(() => ID) id: string;
  @Field(() => ID) groupId: string;
  @Field(() => String, { nullable: true, description: 'The secret token: returned only when the invite is created' }) token: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) expiresAt: Date | null;
  @Field(() => Int, { nullable: true }) maxUses: number | null;
  @Field(() => Int) uses: number;
  @Field(() => Boolean) revoked: boolean;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@ObjectType('InvitePreview', { simpleResolvers: true, description: 'What a token holder sees before joining' })
export class InvitePreviewType {
  @Field(() => ID) groupId: string;
  @Field(() => String) title: string;
  @Field(() => Int) memberCount: number;
  @Field(() => [UserType], { description: 'Up to five members, longest-standing first' }) members: UserType[];
  @Field(() => GraphQLISODateTime, { nullable: true }) expiresAt: Date | null;
  @Field(() => Boolean, { description: 'True when the viewer already belongs to the group' }) alreadyMember: boolean;
}
