/** The audit log and the dashboard, as staff read them. */
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AUDIT_ACTIONS } from './audit';
import type { AuditAction } from './audit';

/** The staff actions as a GraphQL enum: the console takes its filter choices from the schema. */
export const AuditActionEnum = Object.fromEntries(AUDIT_ACTIONS.map((a) => [a, a])) as { [A in AuditAction]: A };
registerEnumType(AuditActionEnum, { name: 'AuditAction', description: 'A kind of staff action' });

@ObjectType('AuditEntry', { description: 'One staff action' })
export class AuditEntryType {
  @Field(() => ID) id: string;
  @Field(() => ID, { nullable: true }) actorId: string | null;
  @Field(() => String) actorEmail: string;
  @Field(() => AuditActionEnum) action: AuditAction;
  @Field(() => String) targetType: string;
  @Field(() => String, { nullable: true }) targetId: string | null;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field(() => String, { nullable: true, description: 'JSON text: before/after and other particulars' }) details: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@InputType('AuditEntryFilter')
export class AuditEntryFilter {
  @Field(() => [ID], { nullable: true }) ids?: string[] | null;
  @Field(() => String, { nullable: true }) actorEmail?: string | null;
  @Field(() => AuditActionEnum, { nullable: true }) action?: AuditAction | null;
  @Field(() => String, { nullable: true }) targetType?: string | null;
  @Field(() => String, { nullable: true }) targetId?: string | null;
}

@ObjectType('CountByPlanModel')
export class CountByPlanModel {
  @Field(() => String) plan: string;
  @Field(() => String) model: string;
  @Field(() => Int) count: number;
}

@ObjectType('CountByPlan')
export class CountByPlan {
  @Field(() => String) plan: string;
  @Field(() => Int) count: number;
}

@ObjectType('Dashboard')
export class DashboardType {
  @Field(() => Int) openCases: number;
  @Field(() => Int) openTeenCases: number;
  @Field(() => GraphQLISODateTime, { description: 'Start of the period the counts below cover (24 hours)' }) since: Date;
  @Field(() => [CountByPlanModel]) responsesByPlanModel: CountByPlanModel[];
  @Field(() => [CountByPlan]) exhaustionsByPlan: CountByPlan[];
}
