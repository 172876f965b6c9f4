/** Public profile rules (PRODUCT.md §1). Pure. */
export interface ProfileInput {
  displayName: string;
  username: string;
  photoUrl: string;
}

export interface Problem {
  field: keyof ProfileInput;
  message: string;
}

export const USERNAME_PATTERN = /^[a-z0-9_.]{3,30}$/;

export function validateProfile(p: ProfileInput): Problem[] {
  const problems: Problem[] = [];
  const name = p.displayName.trim();
  if (name.length < 1 || [...name].length > 50 || name.includes('\0')) {
    problems.push({ field: 'displayName', message: 'displayName must be 1 to 50 characters other than NUL' });
  }
  if (!USERNAME_PATTERN.test(p.username)) {
    problems.push({ field: 'username', message: 'username must be 3 to 30 characters of a-z, 0-9, _ and .' });
  }
  let url: URL | null = null;
  try {
    url = new URL(p.photoUrl);
  } catch {
    url = null;
  }
  if (!url || url.protocol !== 'https:' || p.photoUrl.length > 2000) problems.push({ field: 'photoUrl', message: 'photoUrl must be an https URL' });
  return problems;
}
