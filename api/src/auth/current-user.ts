import type { AuthChecker } from 'type-graphql';
import type { Context } from '../context';
import { unauthenticated } from '../errors';
import type { UserEntity } from '../users/user.entity';

/** `@Authorized()` means: a verified client token (its user is read before any resolver that needs it, see graphql/viewer.ts). */
export const authChecker: AuthChecker<Context> = ({ context }) => {
  if (!context.user && !context.identity) throw unauthenticated();
  return true;
};

export function currentUser(ctx: Context): UserEntity {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}
