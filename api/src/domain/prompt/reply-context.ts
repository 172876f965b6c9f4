/**
 * What an AI reply read, as members may see it on the reply (ModelResponse.context): the
 * messages of the chat that went into the request and whether the group's custom
 * instructions did. Pure. It names messages of the chat only: a group prompt holds nobody's
 * private data, so there is none to name.
 */

export interface ReplyContext {
  /** The messages in the request, oldest first. */
  messageIds: string[];
  fromSeq: number | null;
  toSeq: number | null;
  messageCount: number;
  customInstructions: boolean;
}

/**
 * `history` is what the prompt was built from, oldest first; the prompt keeps its newest
 * `included` entries (the token budget drops the oldest first).
 */
export function replyContext(history: ReadonlyArray<{ id: string; seq: number }>, included: number, customInstructions: boolean): ReplyContext {
  const read = included > 0 ? history.slice(-included) : [];
  return {
    messageIds: read.map((m) => m.id),
    fromSeq: read.length > 0 ? read[0].seq : null,
    toSeq: read.length > 0 ? read[read.length - 1].seq : null,
    messageCount: read.length,
    customInstructions,
  };
}
