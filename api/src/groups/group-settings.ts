import type { AiMode } from '../domain/ai-mode';
import { nameProblem } from '../domain/text/member-text';

export interface GroupSettingsInput {
  title?: string | null;
  customInstructions?: string | null;
  aiMode?: AiMode | null;
}

export const MAX_TITLE = 100;
export const MAX_CUSTOM_INSTRUCTIONS = 4000;

/** Returns what is wrong with the settings; empty when they are fine. Pure. */
export function validateGroupSettings(s: GroupSettingsInput): string[] {
  const problems: string[] = [];
  if (s.title !== undefined && s.title !== null) {
    const t = s.title.trim();
    if (t.length < 1 || [...t].length > MAX_TITLE) problems.push(`title must be 1 to ${MAX_TITLE} characters`);
    // PostgreSQL text cannot hold NUL: refuse it as input rather than fail in the database.
    if (t.includes('\0')) problems.push('title must not contain NUL characters');
    // Shown beside members' words in every client, like a display name: no controls, line breaks or reordering.
    else if (t.length > 0) {
      const problem = nameProblem(t);
      if (problem) problems.push(`title ${problem}`);
    }
  }
  if (s.customInstructions && [...s.customInstructions].length > MAX_CUSTOM_INSTRUCTIONS) {
    problems.push(`customInstructions must be at most ${MAX_CUSTOM_INSTRUCTIONS} characters`);
  }
  if (s.customInstructions?.includes('\0')) problems.push('customInstructions must not contain NUL characters');
  return problems;
}
