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
  @Field(() => String, { nullable: true, description: 'JSON text: before/after and other particulars (detailFields reads it)' }) details: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@ObjectType('AuditDetail', { description: 'One particular of an audit entry, readable as it is' })
export class AuditDetailType {
  @Field(() => String, { description: 'e.g. "percentage", "used before"' }) name: string;
  @Field(() => String, { description: 'e.g. "30% → 60%", "yes"' }) value: string;
}

@InputType('AuditEntryFilter')
export class AuditEntryFilter {
  @Field(() => [ID], { nullable: true }) ids?: string[] | null;
  @Field(() => String, { nullable: true }) actorEmail?: string | null;
  @Field(() => AuditActionEnum, { nullable: true }) action?: AuditAction | null;
  @Field(() => String, { nullable: true }) targetType?: string | null;
  @Field(() => String, { nullable: true }) targetId?: string | null;
}

@ObjectType('CountByPlanModel', { description: 'AI attempts of one plan and model, split by how they ended (docs/product.md §4, charging by outcome)' })
export class CountByPlanModel {
  @Field(() => String) plan: string;
  @Field(() => String) model: string;
  @Field(() => Int, { description: 'Every attempt: the sum of the counts below' }) count: number;
  @Field(() => Int, { description: 'COMPLETED: answered, charged' }) answered: number;
  @Field(() => Int, { description: 'FAILED: not charged' }) failed: number;
  @Field(() => Int, { description: 'BLOCKED by the safety checks (charged when the output broke the rules)' }) blocked: number;
  @Field(() => Int, { description: 'STREAMING: under way, its unit reserved' }) inProgress: number;
}

@ObjectType('AiAttempts', { description: 'Every AI attempt in the period, by outcome; `charged` is what the quotas counted' })
export class AiAttemptsType {
  @Field(() => Int) total: number;
  @Field(() => Int, { description: 'COMPLETED: answered and charged' }) answered: number;
  @Field(() => Int, { description: 'FAILED (provider error, timeout, interrupted, empty…): never charged' }) failedUncharged: number;
  @Field(() => Int, { description: 'BLOCKED because the output broke the safety rules: charged' }) blockedCharged: number;
  @Field(() => Int, { description: 'BLOCKED for want of moderation: not charged' }) blockedUncharged: number;
  @Field(() => Int, { description: 'STREAMING: under way, its unit reserved' }) inProgress: number;
  @Field(() => Int, { description: 'Units charged (answered, charged blocks and reservations under way), as the quotas count them before any staff reset' }) charged: number;
}

@ObjectType('CountByReason')
export class CountByReason {
  @Field(() => String, { description: 'e.g. PROVIDER_ERROR, TIMEOUT, INTERRUPTED, EMPTY_RESPONSE' }) reason: string;
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
  @Field(() => AiAttemptsType) aiAttempts: AiAttemptsType;
  @Field(() => [CountByReason], { description: 'The failed attempts by reason, most frequent first' }) failuresByReason: CountByReason[];
  @Field(() => [CountByPlanModel]) responsesByPlanModel: CountByPlanModel[];
  @Field(() => [CountByPlan]) exhaustionsByPlan: CountByPlan[];
}
