/**
 * Staff authentication: email + password through the signIn mutation; the token, role
 * and expiry live in localStorage. Role rules for the UI mirror the API's (which
 * enforces them anyway): moderators review and decide cases (suspending a case's author
 * included) and read everything else; only admins change rollout rules, reset quotas and
 * suspend or unsuspend users from their page.
 */
import type { AuthProvider } from 'react-admin';
import { operations } from './dataProvider';
import { clearSession, readSession, saveSession, StaffRole } from './session';

/** Actions only an ADMIN may take, per resource ('*' = every action). */
const ADMIN_ONLY: Record<string, string[]> = {
  RolloutRule: ['create', 'edit', 'delete', 'toggle'],
  User: ['reset-quota', 'suspend', 'unsuspend'],
};

export function roleCan(role: StaffRole | undefined, action: string, resource: string): boolean {
  if (!role) return false;
  if (role === 'ADMIN') return true;
  return !(ADMIN_ONLY[resource] ?? []).includes(action);
}

export const authProvider: AuthProvider = {
  async login({ username, password }: { username: string; password: string }) {
    const s = await operations.signIn(username.trim(), password);
    saveSession({ token: s.token, expiresAt: s.expiresAt, role: s.staff.role, email: s.staff.email, staffId: s.staff.id });
  },
  async logout() {
    clearSession();
  },
  async checkAuth() {
    if (!readSession()) throw new Error('Your session has ended: please sign in again');
  },
  async checkError(error: { status?: number }) {
    if (error?.status === 401) {
      clearSession();
      throw new Error('Your session has ended: please sign in again');
    }
  },
  async getIdentity() {
    const s = readSession();
    if (!s) throw new Error('Not signed in');
    return { id: s.staffId, fullName: `${s.email} (${s.role.toLowerCase()})` };
  },
  async getPermissions() {
    return readSession()?.role ?? null;
  },
  async canAccess({ action, resource }) {
    return roleCan(readSession()?.role, action, resource);
  },
};
