import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum CatchUpStatusEnum {
  PENDING = 'PENDING',
  STREAMING = 'STREAMING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  BLOCKED = 'BLOCKED',
}
registerEnumType(CatchUpStatusEnum, { name: 'CatchUpStatus' });

@ObjectType('CatchUp', { simpleResolvers: true, description: 'A private summary of what the viewer missed in a group: only the member who asked ever sees it' })
export class CatchUpType {
  @Field(() => ID) id: string;
  @Field(() => ID) groupId: string;
  @Field(() => CatchUpStatusEnum) status: CatchUpStatusEnum;
  @Field(() => String, { nullable: true, description: 'Why it FAILED or was BLOCKED (e.g. QUOTA_EXCEEDED, CONTENT_BLOCKED)' }) statusReason: string | null;
  @Field(() => String, { description: 'The summary; empty until it COMPLETED' }) body: string;
  @Field(() => Int, { description: "The viewer's read position when they asked: the summary covers what came after it" }) afterSeq: number;
  @Field(() => Int, { nullable: true, description: 'The first message summarised' }) fromSeq: number | null;
  @Field(() => Int, { nullable: true, description: 'The last message summarised' }) toSeq: number | null;
  @Field(() => Int, { description: 'How many messages it summarises' }) messageCount: number;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
  @Field(() => GraphQLISODateTime, { nullable: true }) completedAt: Date | string | null;
}

/** The columns a CatchUpType is read from. */
export const CATCH_UP_COLUMNS = `id, group_id AS "groupId", status, status_reason AS "statusReason", body, after_seq::int AS "afterSeq",
  from_seq::int AS "fromSeq", to_seq::int AS "toSeq", message_count AS "messageCount", created_at AS "createdAt", completed_at AS "completedAt"`;
