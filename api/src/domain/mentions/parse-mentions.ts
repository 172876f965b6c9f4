/** Finds @mentions in a message body (docs/product.md §3). Pure. */
export interface ParsedMentions {
  /** Lower-cased usernames, in order of first appearance, without duplicates. */
  usernames: string[];
  mentionsAi: boolean;
}

const MENTION = /(^|[^A-Za-z0-9_.@])@([\p{L}\p{N}_.]+)/gu;

export function parseMentions(body: string, aiName: string): ParsedMentions {
  const ai = aiName.toLowerCase();
  const usernames: string[] = [];
  let mentionsAi = false;
  for (const match of body.matchAll(MENTION)) {
    // A sentence may end right after a mention: "thanks @bob."
    const name = match[2].replace(/\.+$/, '').toLowerCase();
    if (name === ai) mentionsAi = true;
    else if (/^[a-z0-9_.]{3,30}$/.test(name) && !usernames.includes(name)) usernames.push(name);
  }
  return { usernames, mentionsAi };
}
