/**
 * "Remember that …" in a private conversation saves a personal memory (docs/product.md §5).
 * Pure. Group chats must never call this: they neither read nor write memory.
 */

/** Longest fact kept; a longer one is cut at a word boundary. */
export const MAX_MEMORY_CHARS = 500;

// Words that may come before the request: "oh and please remember…", "@AI remember…".
const LEAD = String.raw`^(?:@\S+[\s,:]*)?(?:(?:oh|ok|okay|and|also|btw|so|hey|pls|please|bitte|und|übrigens|por favor|y|oye|et|au fait|s'il te plaît|stp)[\s,!]+)*`;
const POLITE = String.raw`(?:(?:can|could|would|will) you (?:please )?|please |pls |kannst du (?:dir )?(?:bitte )?|bitte |por favor,? |puedes |peux-tu |tu peux |s'il te plaît,? )?`;

/** Triggers followed by the fact ("remember that X"), in order of precedence. */
const FACT_AFTER: RegExp[] = [
  // en: "remember that …", "remember: …", "please remember …", "don't forget that …", "keep in mind that …"
  new RegExp(`${LEAD}${POLITE}(?:remember|don'?t forget|do not forget|keep in mind|make a note)(?: that|\\s*[:,-])\\s*(.+)$`, 'isu'),
  new RegExp(`${LEAD}${POLITE}remember (?!(?:when|to|how|what|who|where|why|if|whether|the time|me|us|this|that)(?:\\s|$))(.+)$`, 'isu'),
  // de: "merk dir, dass …", "merke dir: …", "vergiss nicht, dass …", "denk daran, dass …", "behalte, dass …"
  new RegExp(`${LEAD}${POLITE}(?:merk(?:e)? dir|merken sie sich|vergiss nicht|denk(?:e)? daran|behalte(?: im kopf)?|notier(?:e)? dir)(?:\\s*,?\\s*dass|\\s*[:,-])\\s*(.+)$`, 'isu'),
  // es: "recuerda que …", "acuérdate de que …", "no olvides que …", "ten en cuenta que …", "apunta que …"
  new RegExp(`${LEAD}${POLITE}(?:recuerda|recuérdalo|acuérdate de|acuerdate de|no olvides|ten en cuenta|apunta|anota|memoriza)(?: que|\\s*[:,-])\\s*(.+)$`, 'isu'),
  // fr: "souviens-toi que …", "rappelle-toi que …", "retiens que …", "n'oublie pas que …", "note que …"
  new RegExp(`${LEAD}${POLITE}(?:souviens-toi|souvenez-vous|rappelle-toi|retiens(?: bien)?|n'oublie pas|mémorise|garde en tête)(?: que| qu'|\\s*[:,-])\\s*(.+)$`, 'isu'),
  // ja, zh, ko with the trigger first: "覚えておいて：…", "记住：…", "기억해: …"
  /^(?:覚えて(?:おいて|おいてね|ください|おいてください|て|といて)|記住|记住|请记住|請記住|기억해(?:\s?줘)?)[\s:：、，,]+(.+)$/su,
];

/** Japanese, Chinese and Korean put the fact first: "私はベジタリアンだと覚えておいて". */
const FACT_BEFORE =
  /^(.+?)(?:ということ|ってこと|こと|だって|って|と)?(?:を|は)?(?:覚えて(?:おいて|おいてね|ください|おいてください|て|といて|ね)|覚えといて|記憶して|请记住|請記住|记住|記住|(?:을|를)?\s?기억해(?:\s?줘|\s?주세요)?)[。！!．.\s]*$/su;

/** The fact a message asks to remember, without the request itself; null when it asks none. */
export function extractRememberRequest(text: string): string | null {
  const input = text.normalize('NFKC').replace(/[\u2018\u2019]/g, "'").trim();
  for (const re of FACT_AFTER) {
    const m = re.exec(input);
    if (!m) continue;
    // The fact is the request's own sentence: "Remember that I'm vegetarian. Any veggie ramen?"
    // saves "I'm vegetarian" and leaves the question to the reply.
    const fact = firstSentence(m[1]);
    // "Do you remember when…?" asks something; "can you remember that …?" requests.
    if (/\?\s*$/.test(fact) && !/^(?:@\S+\s*)?(?:can|could|would|will|kannst|puedes|peux|tu peux)/i.test(input)) return null;
    return clean(fact);
  }
  const m = FACT_BEFORE.exec(input);
  return m ? clean(m[1]) : null;
}

/**
 * Where the first sentence ends: at . ! ? followed by another sentence (not after a
 * common abbreviation such as "Dr." or "St."), or at 。！？ followed by more text.
 */
const SENTENCE_END = /(?<!\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|No|Nr|ca|bzw|z\.B|e\.g|i\.e|etc))[.!?](?=\s+\S)|[。！？](?=\S)/u;

function firstSentence(text: string): string {
  const end = SENTENCE_END.exec(text);
  return end ? text.slice(0, end.index + 1) : text;
}

function clean(raw: string): string | null {
  let fact = raw
    .trim()
    .replace(/^["'«»“”「『]+|["'«»“”」』]+$/gu, '')
    .replace(/[\s.!?。！？]+$/u, '')
    .trim();
  if (fact.length > MAX_MEMORY_CHARS) {
    const cut = fact.slice(0, MAX_MEMORY_CHARS);
    const space = cut.lastIndexOf(' ');
    fact = (space > MAX_MEMORY_CHARS / 2 ? cut.slice(0, space) : cut).trim();
  }
  return fact.length > 0 ? fact : null;
}
