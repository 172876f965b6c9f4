/** The staff API's request context and its one authChecker. */
import type DataLoader from 'dataloader';
import type { AuthChecker } from 'type-graphql';
import type { Services } from '../context';
import { forbidden, unauthenticated } from '../errors';
import type { AdminServices } from './admin-services';
import type { StaffRow } from './staff.service';

export interface AdminContext {
  /** Null when the request carried no staff token (only signIn works then). */
  staff: StaffRow | null;
  /** The client address, for sign-in throttling. */
  ip: string;
  services: Services;
  admin: AdminServices;
  /** Per-request batching (audit-targets.ts). */
  loaders: { auditTarget: DataLoader<string, string | null> };
}

/** Roles a field may name in @Authorized; none means any signed-in staff member. */
export type AdminRole = 'ADMIN' | 'MODERATOR';

export const adminAuthChecker: AuthChecker<AdminContext, AdminRole> = ({ context }, roles) => {
  const staff = context.staff;
  if (!staff) throw unauthenticated('Staff sign-in required');
  if (roles.length === 0 || roles.includes(staff.role === 'admin' ? 'ADMIN' : 'MODERATOR')) return true;
  throw forbidden('This needs the admin role');
};

export function currentStaff(ctx: AdminContext): StaffRow {
  if (!ctx.staff) throw unauthenticated('Staff sign-in required');
  return ctx.staff;
}

export const actorOf = (staff: StaffRow) => ({ actorId: staff.id, actorEmail: staff.email });
