import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLISODateTime } from 'type-graphql';
import { UserType } from '../users/user.type';

export enum MessageKindEnum { USER = 'USER', AI = 'AI', SYSTEM = 'SYSTEM' }
export enum MessageStatusEnum {
  SENT = 'SENT',
  STREAMING = 'STREAMING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  BLOCKED = 'BLOCKED',
  HIDDEN = 'HIDDEN',
  DELETED = 'DELETED',
}
registerEnumType(MessageKindEnum, { name: 'MessageKind' });
registerEnumType(MessageStatusEnum, { name: 'MessageStatus', description: 'DELETED messages are tombstones: the body is empty.' });

@ObjectType('Reaction', { simpleResolvers: true })
export class ReactionType {
  @Field(() => String) emoji: string;
  @Field(() => UserType, { nullable: true, description: 'null when the AI reacted' }) user: UserType | null;
  @Field(() => Boolean) byAi: boolean;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
}

/**
 * A message as every member sees it. The same plain object is returned by queries and
 * carried by group events, so a subscription delivers it without touching the database.
 */
@ObjectType('Message', { simpleResolvers: true })
export class MessageType {
  @Field(() => ID) id: string;
  @Field(() => ID) groupId: string;
  @Field(() => Int, { description: 'Position in the group event sequence' }) seq: number;
  @Field(() => MessageKindEnum) kind: MessageKindEnum;
  @Field(() => UserType, { nullable: true, description: 'null for AI and system messages' }) author: UserType | null;
  @Field(() => String) body: string;
  @Field(() => MessageStatusEnum) status: MessageStatusEnum;
  @Field(() => String, { nullable: true }) statusReason: string | null;
  @Field(() => ID, { nullable: true }) replyToId: string | null;
  @Field(() => String, { nullable: true }) clientMessageId: string | null;
  @Field(() => [UserType]) mentions: UserType[];
  @Field(() => Boolean) mentionsAi: boolean;
  @Field(() => [ReactionType]) reactions: ReactionType[];
  @Field(() => GraphQLISODateTime, { nullable: true }) editedAt: Date | string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) deletedAt: Date | string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
}
