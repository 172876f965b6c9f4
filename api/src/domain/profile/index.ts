/** Public profile rules (docs/product.md §1). Pure. */
import { nameProblem, reservedNameKey } from '../text/member-text';

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

export interface ProfileRules {
  /** The AI's name (AI_NAME): nobody may pass for it, as a display name or as a username. */
  aiName: string;
}

export function validateProfile(p: ProfileInput, rules: ProfileRules): Problem[] {
  const problems: Problem[] = [];
  const name = p.displayName.trim();
  const problem = nameProblem(name);
  if (name.length < 1 || [...name].length > 50) {
    problems.push({ field: 'displayName', message: 'displayName must be 1 to 50 characters' });
  } else if (problem) {
    problems.push({ field: 'displayName', message: `displayName ${problem}` });
  } else if (reservedNameKey(name) === reservedNameKey(rules.aiName)) {
    problems.push({ field: 'displayName', message: `displayName must not be the AI's name (${rules.aiName})` });
  }
  if (!USERNAME_PATTERN.test(p.username)) {
    problems.push({ field: 'username', message: 'username must be 3 to 30 characters of a-z, 0-9, _ and .' });
  } else if (reservedNameKey(p.username) === reservedNameKey(rules.aiName)) {
    problems.push({ field: 'username', message: `username must not be the AI's name (${rules.aiName})` });
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
