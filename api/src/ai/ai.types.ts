import { Field, GraphQLISODateTime, ID, Int, ObjectType } from 'type-graphql';
import { PlanEnum, UserType } from '../users/user.type';

@ObjectType('QuotaStatus', { simpleResolvers: true, description: 'AI responses charged to the viewer in the rolling window of their plan' })
export class QuotaStatusType {
  @Field(() => PlanEnum) plan: PlanEnum;
  @Field(() => Int) limit: number;
  @Field(() => Int) used: number;
  @Field(() => Int) remaining: number;
  @Field(() => Int, { description: 'Length of the rolling window in seconds' }) windowSeconds: number;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the next unit frees up; null when nothing is used' }) resetsAt: Date | null;
}

@ObjectType('ReplyContext', { simpleResolvers: true, description: "What an AI reply read: the chat's messages that went into its request, and whether the group's custom instructions did" })
export class ReplyContextType {
  @Field(() => [ID], { description: 'The messages in the request, oldest first' }) messageIds: string[];
  @Field(() => Int, { nullable: true }) fromSeq: number | null;
  @Field(() => Int, { nullable: true }) toSeq: number | null;
  @Field(() => Int) messageCount: number;
  @Field(() => Boolean) customInstructions: boolean;
}

@ObjectType('ModelResponse', { simpleResolvers: true, description: 'How an AI reply was produced and who paid for it' })
export class ModelResponseType {
  @Field(() => ID) id: string;
  @Field(() => String) model: string;
  @Field(() => String, { description: 'fast, reasoning or top' }) tier: string;
  @Field(() => String, { description: "The router's reason for the tier" }) routeReason: string;
  @Field(() => UserType) chargedUser: UserType;
  @Field(() => Boolean, { description: 'False when the response failed and its unit was given back' }) charged: boolean;
  @Field(() => Int, { nullable: true }) promptTokens: number | null;
  @Field(() => Int, { nullable: true }) completionTokens: number | null;
  @Field(() => Int, { nullable: true }) latencyMs: number | null;
  @Field(() => String, { description: 'STREAMING, COMPLETED, FAILED or BLOCKED' }) status: string;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => ReplyContextType, { nullable: true, description: 'What the reply read; null when it never reached the provider' }) context: ReplyContextType | null;
}
