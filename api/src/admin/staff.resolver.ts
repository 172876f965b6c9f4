import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { currentStaff } from './admin-context';
import type { AdminContext } from './admin-context';
import { StaffSessionType, StaffType, toStaffView } from './admin.types';

@Resolver()
export class StaffResolver {
  @Mutation(() => StaffSessionType, { description: 'Public. Wrong email or password: UNAUTHENTICATED; too many failures: RATE_LIMITED' })
  async signIn(@Arg('email', () => String) email: string, @Arg('password', () => String) password: string, @Ctx() ctx: AdminContext): Promise<StaffSessionType> {
    const session = await ctx.services.staff.signIn(email, password, ctx.ip);
    return { token: session.token, expiresAt: session.expiresAt, staff: toStaffView(session.staff) };
  }

  @Authorized()
  @Query(() => StaffType, { description: 'The signed-in staff member' })
  me(@Ctx() ctx: AdminContext): StaffType {
    return toStaffView(currentStaff(ctx));
  }
}
