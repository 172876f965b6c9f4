/** Safety cases as staff see them: the case, its message and a few messages around it. */
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum CaseDecisionEnum {
  DISMISS = 'DISMISS',
  REMOVE_MESSAGE = 'REMOVE_MESSAGE',
  SUSPEND_AUTHOR = 'SUSPEND_AUTHOR',
}
registerEnumType(CaseDecisionEnum, { name: 'CaseDecision' });

@ObjectType('CaseMessage', { description: 'A message shown to staff in the context of a case' })
export class CaseMessageType {
  @Field(() => ID) id: string;
  @Field(() => Int) seq: number;
  @Field(() => String) authorName: string;
  @Field(() => ID, { nullable: true }) authorId: string | null;
  @Field(() => String, { description: 'USER, AI or SYSTEM' }) kind: string;
  @Field(() => String, { nullable: true, description: 'null once deleted' }) body: string | null;
  @Field(() => Boolean) deleted: boolean;
  @Field(() => Boolean, { description: 'Hidden from members by moderation' }) hidden: boolean;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => Boolean, { description: 'The message the case is about' }) flagged: boolean;
}

@ObjectType('CaseSource', { description: 'One thing that raised or joined a case: an automatic flag, a user report, a blocked AI reply' })
export class CaseSourceType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'AUTO_FLAG, USER_REPORT, AI_BLOCKED or AI_INPUT' }) kind: string;
  @Field(() => ID, { nullable: true, description: 'The reporter of a USER_REPORT' }) reporterId: string | null;
  @Field(() => String, { nullable: true }) reporterUsername: string | null;
  @Field(() => String, { nullable: true, description: "A user report's reason" }) reason: string | null;
  @Field(() => String, { nullable: true, description: 'The message text as this source saw it (staff only); kept when the message is removed, null once purged' })
  evidence: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => Boolean, { description: 'Settled by the decision of its case' }) settled: boolean;
  @Field(() => String, { nullable: true, description: "The case's decision (DISMISSED, MESSAGE_REMOVED, AUTHOR_SUSPENDED) once settled" }) decision: string | null;
}

@ObjectType('SafetyCase')
export class SafetyCaseType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'AUTO_FLAG, USER_REPORT, AI_BLOCKED or AI_INPUT' }) source: string;
  @Field(() => String, { description: 'OPEN, DISMISSED, MESSAGE_REMOVED or AUTHOR_SUSPENDED' }) status: string;
  @Field(() => [String]) categories: string[];
  @Field(() => String, { nullable: true, description: 'The first category' }) category: string | null;
  @Field(() => String) severity: string;
  @Field(() => Boolean) teen: boolean;
  @Field(() => String, { nullable: true }) region: string | null;
  @Field(() => String) excerpt: string;
  @Field(() => ID, { nullable: true }) groupId: string | null;
  @Field(() => String, { nullable: true }) groupTitle: string | null;
  @Field(() => ID, { nullable: true }) messageId: string | null;
  @Field(() => ID, { nullable: true }) authorId: string | null;
  @Field(() => Int, { description: 'User reports folded into this case (its USER_REPORT sources)' }) reportCount: number;
  @Field(() => [String]) reportReasons: string[];
  @Field(() => String, {
    nullable: true,
    description: 'The message text as the case first recorded it (staff only): kept when the message is removed from the thread, null once purged',
  })
  evidence: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the evidence was purged, SAFETY_EVIDENCE_RETENTION_DAYS after the decision' })
  evidencePurgedAt: Date | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) decidedAt: Date | null;
  @Field(() => String, { nullable: true }) decidedBy: string | null;
  @Field(() => String, { nullable: true }) decisionReason: string | null;
}

@InputType('SafetyCaseFilter')
export class SafetyCaseFilter {
  @Field(() => [ID], { nullable: true }) ids?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Text in the excerpt' }) q?: string | null;
  @Field(() => String, { nullable: true }) status?: string | null;
  @Field(() => String, { nullable: true }) category?: string | null;
  @Field(() => String, { nullable: true }) source?: string | null;
  @Field(() => String, { nullable: true }) region?: string | null;
  @Field(() => Boolean, { nullable: true }) teen?: boolean | null;
}
