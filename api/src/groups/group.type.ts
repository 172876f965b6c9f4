import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AiMode, AI_MODES } from '../domain/ai-mode';
import { enumOf } from '../graphql/enum-of';
import { UserType } from '../users/user.type';
import type { GroupEntity } from './group.entity';

export const AiModeEnum = enumOf(AI_MODES);
export type AiModeEnum = AiMode;
export enum SafetyProfileEnum { STANDARD = 'STANDARD', TEEN = 'TEEN' }
export enum MemberRoleEnum { OWNER = 'OWNER', MEMBER = 'MEMBER' }
registerEnumType(AiModeEnum, {
  name: 'AiMode',
  valuesConfig: {
    AUTO: { description: 'The AI follows the conversation and decides when to chime in' },
    MENTIONS: { description: 'The AI answers only when mentioned' },
    OFF: { description: 'The AI never answers' },
  },
});
registerEnumType(SafetyProfileEnum, { name: 'SafetyProfile' });
registerEnumType(MemberRoleEnum, { name: 'MemberRole' });

/** Group fields every member sees alike (viewer-specific data lives in `myMembership`). */
@ObjectType('Group', { simpleResolvers: true })
export class GroupType {
  @Field(() => ID) id: string;
  @Field(() => String) title: string;
  @Field(() => String, { description: 'Instructions for the AI that apply to everyone in the group' }) customInstructions: string;
  @Field(() => AiModeEnum) aiMode: AiModeEnum;
  @Field(() => SafetyProfileEnum) safetyProfile: SafetyProfileEnum;
  @Field(() => Int) memberCount: number;
  @Field(() => ID, { nullable: true }) ownerId: string | null;
  @Field(() => Int, { description: 'Sequence number of the latest group event' }) lastSeq: number;
  @Field(() => Boolean) closed: boolean;
  @Field(() => GraphQLISODateTime) createdAt: Date | string;
}

@ObjectType('GroupMember', { simpleResolvers: true })
export class GroupMemberType {
  @Field(() => UserType) user: UserType;
  @Field(() => MemberRoleEnum) role: MemberRoleEnum;
  @Field(() => GraphQLISODateTime) joinedAt: Date | string;
}

/** The viewer's own membership: mute state and read position. */
@ObjectType('Membership', { simpleResolvers: true })
export class MembershipType {
  @Field(() => MemberRoleEnum) role: MemberRoleEnum;
  @Field(() => GraphQLISODateTime) joinedAt: Date | string;
  @Field(() => Boolean) muted: boolean;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'null when not muted or muted forever' }) mutedUntil: Date | string | null;
  @Field(() => Int) lastReadSeq: number;
  @Field(() => Int) unreadCount: number;
  /** The group it belongs to (not a field: the viewer's own membership is read through its group). */
  groupId?: string;
}

export function toGroupView(g: GroupEntity): GroupType {
  return {
    id: g.id,
    title: g.title,
    customInstructions: g.customInstructions,
    aiMode: g.aiMode,
    safetyProfile: g.safetyProfile as SafetyProfileEnum,
    memberCount: g.memberCount,
    ownerId: g.ownerId,
    lastSeq: Number(g.lastSeq),
    closed: g.closedAt !== null,
    createdAt: g.createdAt,
  };
}
