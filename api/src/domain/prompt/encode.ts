/**
 * How text written by members is put into a prompt (issue 10, item 7). Pure. Members
 * write messages, display names, memories and group settings; the service writes the
 * tags around them. Escaping `&`, `<` and `>` means no member text holds a `<`, so none
 * can open or close a tag, whatever it contains; and nothing is lost (it decodes back to
 * exactly what was written). Stripping tags could not promise that: a single pass turns
 * `</group_</group_settings>settings>` back into the tag it removed.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Member text as the content of an element. */
export function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => ENTITIES[c]);
}

/** A value for a `"…"` attribute; the service's own values (names) need no more, but nothing is taken on trust. */
export function escapeAttribute(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ENTITIES[c]);
}

/** The chat API's `name` field takes ^[a-zA-Z0-9_-]{1,64}$. */
export const API_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** The `name` of messages whose author is not known (no username on record). */
export const UNKNOWN_AUTHOR_NAME = 'unknown-member';

/**
 * The `name` a member's messages carry: their username, with `.` written as `-`. Usernames
 * are unique and `[a-z0-9_.]`, never `-`, so two members never share a name and no
 * username can be mistaken for another. The member, who controls their display name,
 * has no say in this field.
 */
export function promptName(username: string | null | undefined): string {
  if (!username) return UNKNOWN_AUTHOR_NAME;
  const name = username.replace(/\./g, '-');
  // The users table holds only [a-z0-9_.]{3,30}; anything else is not a username.
  return /^[a-z0-9_-]{3,30}$/.test(name) ? name : UNKNOWN_AUTHOR_NAME;
}
