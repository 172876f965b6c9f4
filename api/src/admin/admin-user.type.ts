/**
 * Users, quotas and model responses as staff see them. These classes are separate from
 * the client's `User` and `ModelResponse` (type-graphql metadata is global; the names
 * only meet in different schemas).
 */
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType } from 'type-graphql';

@ObjectType('QuotaWindow', { description: "A user's AI quota in the rolling window of their plan" })
export class QuotaWindowType {
  @Field(() => String, { description: 'The window, e.g. 5h' }) window: string;
  @Field(() => Int) windowSeconds: number;
  @Field(() => Int) limit: number;
  @Field(() => Int) used: number;
  @Field(() => Int) remaining: number;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the next unit frees up' }) resetsAt: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When staff last reset this quota' }) resetAt: Date | null;
}

@ObjectType('PlanLimit')
export class PlanLimitType {
  @Field(() => String) plan: string;
  @Field(() => String) window: string;
  @Field(() => Int) windowSeconds: number;
  @Field(() => Int) limit: number;
}

@ObjectType('User', { description: 'A user account as staff see it' })
export class AdminUserView {
  @Field(() => ID) id: string;
  @Field(() => String, { description: "The identity provider's subject" }) subject: string;
  @Field(() => String, { nullable: true }) username: string | null;
  @Field(() => String, { nullable: true }) displayName: string | null;
  @Field(() => String, { nullable: true }) region: string | null;
  @Field(() => String) plan: string;
  @Field(() => String, { nullable: true }) ageBand: string | null;
  @Field(() => Boolean) parentalGroupChats: boolean;
  @Field(() => Boolean) suspended: boolean;
  @Field(() => GraphQLISODateTime, { nullable: true }) suspendedAt: Date | null;
  @Field(() => String, { nullable: true }) suspendedReason: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  /** Not a GraphQL field: feeds `quota`. */
  quotaResetAt: Date | null;
}

@InputType('UserFilter')
export class UserFilter {
  @Field(() => [ID], { nullable: true }) ids?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Text in username, display name or subject' }) q?: string | null;
  @Field(() => String, { nullable: true }) plan?: string | null;
  @Field(() => String, { nullable: true }) region?: string | null;
  @Field(() => Boolean, { nullable: true }) suspended?: boolean | null;
}

@ObjectType('ModelResponse', { description: 'One AI response: model, cost and who was charged' })
export class AdminModelResponseView {
  @Field(() => ID) id: string;
  @Field(() => ID, { nullable: true }) groupId: string | null;
  @Field(() => ID, { nullable: true }) conversationId: string | null;
  @Field(() => ID) chargedUserId: string;
  @Field(() => String) plan: string;
  @Field(() => String) tier: string;
  @Field(() => String) model: string;
  @Field(() => String) routeReason: string;
  @Field(() => String) status: string;
  @Field(() => String, { nullable: true }) statusReason: string | null;
  @Field(() => Boolean) charged: boolean;
  @Field(() => Int, { nullable: true }) promptTokens: number | null;
  @Field(() => Int, { nullable: true }) completionTokens: number | null;
  @Field(() => Int, { nullable: true }) latencyMs: number | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@InputType('ModelResponseFilter')
export class ModelResponseFilter {
  @Field(() => [ID], { nullable: true }) ids?: string[] | null;
  @Field(() => ID, { nullable: true }) chargedUserId?: string | null;
  @Field(() => String, { nullable: true }) model?: string | null;
  @Field(() => String, { nullable: true }) plan?: string | null;
  @Field(() => String, { nullable: true }) status?: string | null;
}
