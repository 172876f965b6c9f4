/**
 * What text written by members may hold (docs/product.md §1, §3). Pure. A message must show
 * something; a name is shown beside other people's words, in clients and in the AI's
 * prompt, so it may not hold characters that hide or reorder what comes after it.
 */

/**
 * Characters that show nothing on their own: white space, controls, format characters
 * (zero-width space, joiners, BOM, bidirectional marks), the other default-ignorable code
 * points (Hangul fillers, variation selectors, tag characters) and the blank Braille cell.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** True when the text shows at least one character (it stops at the first). */
export function hasVisibleText(text: string): boolean {
  return VISIBLE.test(text);
}

/**
 * Embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069) reorder the text
 * after them, so a name could make the words beside it read backwards. The marks
 * U+200E, U+200F and U+061C only set the direction of neutral characters next to them and
 * are part of writing names in Arabic or Hebrew: they stay allowed.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;
/** C0 and C1 controls (newline and tab included: a name is one line) and the line and paragraph separators. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]/u;

/** Why `name` cannot be a name shown to others, or null when it can. */
export function nameProblem(name: string): string | null {
  if (LINE_BREAKING.test(name)) return 'must not contain control characters or line breaks';
  if (BIDI_CONTROLS.test(name)) return 'must not contain bidirectional override or isolate characters';
  if (!hasVisibleText(name)) return 'must contain visible characters';
  return null;
}

/**
 * The form two names are compared in when one is reserved: compatibility forms folded
 * (full-width letters), case ignored, and only letters and digits kept, so "A.I.", "@ai"
 * and "Ａ Ｉ" all read as "ai". Look-alike letters of other scripts are not folded.
 */
export function reservedNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}
