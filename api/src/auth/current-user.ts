import type { AuthChecker } from 'type-graphql';
import type { Context } from '../context';
import { DomainError, unauthenticated } from '../errors';
import { hasPublicProfile, UserEntity } from '../users/user.entity';

/** `@Authorized()` means: a verified client token (its user is read before any resolver that needs it, see graphql/viewer.ts). */
export const authChecker: AuthChecker<Context> = ({ context }) => {
  if (!context.user && !context.identity) throw unauthenticated();
  return true;
};

export function currentUser(ctx: Context): UserEntity {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}

/** Suspended users can read but not write. */
export function assertCanWrite(user: UserEntity): void {
  if (user.suspendedAt) throw new DomainError('SUSPENDED', 'Your account is suspended');
}

/** Creating or joining groups needs a public profile and, for minors, parental consent. */
export function assertCanJoinGroups(user: UserEntity): void {
  assertCanWrite(user);
  if (!hasPublicProfile(user)) throw new DomainError('PROFILE_REQUIRED', 'Set a public profile (display name, username, photo) first');
  if (user.ageBand === 'minor' && !user.parentalGroupChats) throw new DomainError('FORBIDDEN', 'Group chats are turned off by a parent');
}
