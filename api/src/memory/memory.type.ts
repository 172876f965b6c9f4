import { Field, GraphQLISODateTime, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum MemorySourceEnum { MANUAL = 'MANUAL', CONVERSATION = 'CONVERSATION' }
registerEnumType(MemorySourceEnum, {
  name: 'MemorySource',
  valuesConfig: {
    MANUAL: { description: 'Added with addMemory' },
    CONVERSATION: { description: 'Saved from a "remember that …" in a private conversation' },
  },
});

/** A fact from the caller's personal memory; only its owner ever sees it. */
@ObjectType('Memory', { simpleResolvers: true, description: "A saved fact from the caller's personal memory, used only in their private conversations" })
export class MemoryType {
  @Field(() => ID) id: string;
  @Field(() => String) text: string;
  @Field(() => MemorySourceEnum) source: MemorySourceEnum;
  @Field(() => ID, { nullable: true, description: 'The private conversation it was saved from' }) conversationId: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
}
