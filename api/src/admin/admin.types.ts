/** Types shared across the staff schema: the staff member, the session and list metadata. */
import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { StaffRow } from './staff.service';

export enum StaffRoleEnum {
  ADMIN = 'ADMIN',
  MODERATOR = 'MODERATOR',
}
registerEnumType(StaffRoleEnum, { name: 'StaffRole' });

@ObjectType('Staff', { description: 'A staff member of the console' })
export class StaffType {
  @Field(() => ID) id: string;
  @Field(() => String) email: string;
  @Field(() => StaffRoleEnum) role: StaffRoleEnum;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) lastSignInAt: Date | null;
}

@ObjectType('StaffSession')
export class StaffSessionType {
  @Field(() => String) token: string;
  @Field(() => GraphQLISODateTime) expiresAt: Date;
  @Field(() => StaffType) staff: StaffType;
}

@ObjectType('ListMetadata')
export class ListMetadata {
  @Field(() => Int) count: number;
}

export const toStaffView = (s: StaffRow): StaffType => ({
  id: s.id,
  email: s.email,
  role: s.role === 'admin' ? StaffRoleEnum.ADMIN : StaffRoleEnum.MODERATOR,
  createdAt: s.createdAt,
  lastSignInAt: s.lastSignInAt,
});
