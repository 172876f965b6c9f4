/** A group's safety profile (docs/product.md §6). Pure. */
export type SafetyProfileName = 'STANDARD' | 'TEEN';

export interface MemberAge {
  ageBand: 'adult' | 'minor' | null;
}

/** TEEN while any member is a minor, or of unknown age when that counts as a minor. */
export function safetyProfile(members: readonly MemberAge[], unknownAgeIsMinor: boolean): SafetyProfileName {
  const teen = members.some((m) => m.ageBand === 'minor' || (m.ageBand === null && unknownAgeIsMinor));
  return teen ? 'TEEN' : 'STANDARD';
}
