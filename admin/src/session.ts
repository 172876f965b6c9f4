/** The signed-in staff session, kept in localStorage so a reload stays signed in. */
export type StaffRole = 'ADMIN' | 'MODERATOR';

export interface Session {
  token: string;
  expiresAt: string;
  role: StaffRole;
  email: string;
  staffId: string;
}

const KEY = 'roundtable.staff.session';

export function readSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (!s.token || Date.parse(s.expiresAt) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

export function currentToken(): string | null {
  return readSession()?.token ?? null;
}
