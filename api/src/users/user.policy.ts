/**
 * What a user's account lets them do (docs/product.md §1): the checks every service runs
 * before it writes. Services import these rather than the GraphQL layer's auth module,
 * so no service depends on the request context.
 */
import { DomainError } from '../errors';
import { hasPublicProfile, UserEntity } from './user.entity';

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
