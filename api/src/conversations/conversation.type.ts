import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MemoryType } from '../memory/memory.type';

export enum ConversationRoleEnum { USER = 'USER', AI = 'AI' }
export enum ConversationMessageStatusEnum { SENT = 'SENT', COMPLETED = 'COMPLETED', FAILED = 'FAILED', BLOCKED = 'BLOCKED' }
registerEnumType(ConversationRoleEnum, { name: 'ConversationRole' });
registerEnumType(ConversationMessageStatusEnum, {
  name: 'ConversationMessageStatus',
  valuesConfig: {
    SENT: { description: "The person's message" },
    COMPLETED: { description: "The AI's answer" },
    FAILED: { description: 'The AI did not answer; statusReason says why (QUOTA_EXCEEDED, PROVIDER_NOT_CONFIGURED, PROVIDER_ERROR, …)' },
    BLOCKED: { description: "The AI's answer was withheld by moderation; the body is empty" },
  },
});

@ObjectType('ConversationMessage', { simpleResolvers: true })
export class ConversationMessageType {
  @Field(() => ID) id: string;
  @Field(() => ID) conversationId: string;
  @Field(() => Int, { description: 'Position in the conversation, from 1' }) seq: number;
  @Field(() => ConversationRoleEnum) role: ConversationRoleEnum;
  @Field(() => String) body: string;
  @Field(() => ConversationMessageStatusEnum) status: ConversationMessageStatusEnum;
  @Field(() => String, { nullable: true }) statusReason: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
}

/** A private conversation between one person and the AI; only its owner ever sees it. */
@ObjectType('Conversation', { simpleResolvers: true, description: 'A private conversation between the caller and the AI' })
export class ConversationType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'Empty until given or taken from the first message' }) title: string;
  @Field(() => Int, { description: 'Seq of the latest message' }) lastSeq: number;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
  @Field(() => GraphQLISODateTime) updatedAt: Date | string;
}

@ObjectType('PrivateExchange', { simpleResolvers: true, description: "The person's message and the AI's reply to it" })
export class PrivateExchangeType {
  @Field(() => ConversationMessageType) message: ConversationMessageType;
  @Field(() => ConversationMessageType, { description: 'COMPLETED, or FAILED / BLOCKED with statusReason' }) reply: ConversationMessageType;
  @Field(() => MemoryType, { nullable: true, description: 'The fact saved when the message asked to remember something' }) memorySaved: MemoryType | null;
  @Field(() => Boolean, { description: 'The message asked to remember something, but memory already holds 200 facts' }) memoryFull: boolean;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'With reply statusReason QUOTA_EXCEEDED: when the quota frees a unit again' })
  quotaResetsAt: Date | null;
}
