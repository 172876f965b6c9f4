import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Plan, PLANS } from '../domain/plan';
import { enumOf } from '../graphql/enum-of';
import type { UserEntity } from './user.entity';

/** What every group member may see of another user: the public profile. */
@ObjectType('User', { simpleResolvers: true, description: 'A person, as other members see them: the public profile.' })
export class UserType {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) username: string | null;
  @Field(() => String, { nullable: true }) displayName: string | null;
  @Field(() => String, { nullable: true }) photoUrl: string | null;
}

export const PlanEnum = enumOf(PLANS);
export type PlanEnum = Plan;
export enum AgeBandEnum { adult = 'adult', minor = 'minor' }
registerEnumType(PlanEnum, { name: 'Plan' });
registerEnumType(AgeBandEnum, { name: 'AgeBand' });

/** The signed-in user's own account, with the claims the identity provider sent. */
@ObjectType('Me', { simpleResolvers: true })
export class MeType extends UserType {
  @Field(() => PlanEnum) plan: PlanEnum;
  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2 country code' }) region: string | null;
  @Field(() => AgeBandEnum, { nullable: true, description: 'null when the age is unknown' }) ageBand: AgeBandEnum | null;
  @Field(() => Boolean) hasPublicProfile: boolean;
  @Field(() => Boolean) suspended: boolean;
}

export function toUserView(u: Pick<UserEntity, 'id' | 'username' | 'displayName' | 'photoUrl'>): UserType {
  return { id: u.id, username: u.username, displayName: u.displayName, photoUrl: u.photoUrl };
}

export function toMeView(u: UserEntity): MeType {
  return {
    ...toUserView(u),
    plan: u.plan,
    region: u.region,
    ageBand: u.ageBand as AgeBandEnum | null,
    hasPublicProfile: !!u.username && !!u.displayName,
    suspended: u.suspendedAt !== null,
  };
}
