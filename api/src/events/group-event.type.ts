import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GroupMemberType, GroupType } from '../groups/group.type';
import { MessageType, ReactionType } from '../messages/message.type';
import { UserType } from '../users/user.type';
import { CatchUpType } from '../catch-up/catch-up.type';

export enum GroupEventKind {
  MESSAGE_CREATED = 'MESSAGE_CREATED',
  MESSAGE_UPDATED = 'MESSAGE_UPDATED',
  MESSAGE_DELETED = 'MESSAGE_DELETED',
  REACTION_ADDED = 'REACTION_ADDED',
  REACTION_REMOVED = 'REACTION_REMOVED',
  MEMBER_JOINED = 'MEMBER_JOINED',
  MEMBER_LEFT = 'MEMBER_LEFT',
  MEMBER_REMOVED = 'MEMBER_REMOVED',
  GROUP_UPDATED = 'GROUP_UPDATED',
  GROUP_CLOSED = 'GROUP_CLOSED',
  TYPING = 'TYPING',
  /** Ephemeral: a batch of text for an AI message that is STREAMING. */
  AI_DELTA = 'AI_DELTA',
  /** The AI message reached its final state: COMPLETED, FAILED or BLOCKED. */
  AI_COMPLETED = 'AI_COMPLETED',
  /** Ephemeral and private: the AI did not answer because the viewer's quota is used up. */
  QUOTA_NOTICE = 'QUOTA_NOTICE',
  /** Ephemeral and private: the AI cannot answer the viewer's mention here (notice.code AI_NOT_CONFIGURED: no model provider). */
  AI_NOTICE = 'AI_NOTICE',
  /** Ephemeral and private: text of the viewer's own catch-up as it streams (delta.messageId is the catch-up's id). */
  CATCH_UP_DELTA = 'CATCH_UP_DELTA',
  /** Ephemeral and private: the viewer's catch-up ended (catchUp: COMPLETED, FAILED or BLOCKED). */
  CATCH_UP_COMPLETED = 'CATCH_UP_COMPLETED',
}
registerEnumType(GroupEventKind, { name: 'GroupEventType' });

/** Ephemeral events carry no sequence number and are never stored. */
export const EPHEMERAL_EVENTS = new Set<GroupEventKind>([
  GroupEventKind.TYPING,
  GroupEventKind.AI_DELTA,
  GroupEventKind.QUOTA_NOTICE,
  GroupEventKind.AI_NOTICE,
  GroupEventKind.CATCH_UP_DELTA,
  GroupEventKind.CATCH_UP_COMPLETED,
]);

@ObjectType('TypingIndicator', { simpleResolvers: true })
export class TypingType {
  @Field(() => UserType) user: UserType;
  @Field(() => Boolean) isTyping: boolean;
  @Field(() => GraphQLISODateTime, { description: 'When the indicator lapses unless renewed' }) expiresAt: Date | string;
}

@ObjectType('AiDelta', { simpleResolvers: true })
export class AiDeltaType {
  @Field(() => ID) messageId: string;
  @Field(() => String, { description: 'Text to append to the message' }) text: string;
  @Field(() => Int, { description: 'Offset of this text in the whole reply, in UTF-16 code units' }) offset: number;
}

@ObjectType('Notice', { simpleResolvers: true })
export class NoticeType {
  @Field(() => String, { description: 'What the notice is about: QUOTA_EXCEEDED, or AI_NOT_CONFIGURED (this service has no model provider)' }) code: string;
  @Field(() => String) message: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) resetsAt: Date | string | null;
  @Field(() => ID, { nullable: true, description: 'The message the notice is about' }) messageId: string | null;
}

@ObjectType('ReactionEvent', { simpleResolvers: true })
export class ReactionEventType extends ReactionType {
  @Field(() => ID) messageId: string;
}

/**
 * One event on a group's stream. The object is self-contained JSON: it is built once
 * when the event commits (or when it is replayed) and delivered to every subscriber
 * as is. Only the fields of its type are set.
 */
@ObjectType('GroupEvent', { simpleResolvers: true })
export class GroupEventType {
  @Field(() => Int, { nullable: true, description: 'Strictly increasing per group; null for typing' }) seq: number | null;
  @Field(() => ID) groupId: string;
  @Field(() => GroupEventKind) type: GroupEventKind;
  @Field(() => GraphQLISODateTime) occurredAt: Date | string;
  @Field(() => UserType, { nullable: true, description: 'Who caused the event, when a person did' }) actor: UserType | null;
  @Field(() => MessageType, { nullable: true }) message: MessageType | null;
  @Field(() => GroupMemberType, { nullable: true, description: 'The member who joined, left or was removed' }) member: GroupMemberType | null;
  @Field(() => GroupType, { nullable: true }) group: GroupType | null;
  @Field(() => ReactionEventType, { nullable: true }) reaction: ReactionEventType | null;
  @Field(() => TypingType, { nullable: true }) typing: TypingType | null;
  @Field(() => AiDeltaType, { nullable: true }) delta?: AiDeltaType | null;
  @Field(() => NoticeType, { nullable: true, description: 'Only ever delivered to the member it concerns' }) notice?: NoticeType | null;
  @Field(() => CatchUpType, { nullable: true, description: "The viewer's own catch-up (CATCH_UP_COMPLETED); only ever delivered to them" }) catchUp?: CatchUpType | null;
  /** Set for events only one member may see; never exposed. */
  visibleTo?: string | null;
}

/** An event with no seq: delivered live to members' streams, never stored or replayed. */
export function ephemeralEvent(groupId: string, type: GroupEventKind, fields: Partial<GroupEventType>): GroupEventType {
  return { seq: null, groupId, type, occurredAt: new Date(), actor: null, message: null, member: null, group: null, reaction: null, typing: null, ...fields };
}
