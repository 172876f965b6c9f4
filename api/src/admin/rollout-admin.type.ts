/** Rollout rules and the effective region × plan grid, for the console. */
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType } from 'type-graphql';

@ObjectType('RolloutRule')
export class RolloutRuleType {
  @Field(() => ID) id: string;
  @Field(() => String) feature: string;
  @Field(() => String, { description: "'*' or an ISO 3166-1 alpha-2 code" }) region: string;
  @Field(() => String, { description: "'*' or a plan" }) plan: string;
  @Field(() => Boolean) enabled: boolean;
  @Field(() => Int) percentage: number;
  @Field(() => GraphQLISODateTime) updatedAt: Date;
  @Field(() => String) updatedBy: string;
}

@InputType('RolloutRuleFilter')
export class RolloutRuleFilter {
  @Field(() => [ID], { nullable: true }) ids?: string[] | null;
  @Field(() => String, { nullable: true }) feature?: string | null;
  @Field(() => String, { nullable: true }) region?: string | null;
  @Field(() => String, { nullable: true }) plan?: string | null;
}

@ObjectType('RolloutCell', { description: 'The effective state of a feature for one region and plan' })
export class RolloutCellType {
  @Field(() => String) feature: string;
  @Field(() => String) region: string;
  @Field(() => String) plan: string;
  @Field(() => Boolean, { description: 'On for at least some users' }) enabled: boolean;
  @Field(() => Int, { description: 'Share of users who get it: 0 when off' }) percentage: number;
  @Field(() => ID, { nullable: true, description: 'The rule that decides this cell' }) ruleId: string | null;
  @Field(() => String, { nullable: true }) ruleRegion: string | null;
  @Field(() => String, { nullable: true }) rulePlan: string | null;
}

@ObjectType('RolloutGrid')
export class RolloutGridType {
  @Field(() => [String]) features: string[];
  @Field(() => [String]) regions: string[];
  @Field(() => [String]) plans: string[];
  @Field(() => [RolloutCellType]) cells: RolloutCellType[];
}
