/**
 * When a reaction fits better than words (docs/product.md §3: the AI reacts too): a plain
 * thank-you or acknowledgement to the AI gets an emoji, not a message. Pure.
 */
const THANKS = /^(?:@\S+\s*)*(?:thanks?|thank you|thx|ty|cheers|great,? thanks|danke(?: schön| dir)?|vielen dank|gracias|muchas gracias|merci(?: beaucoup)?|grazie|obrigad[oa]|ありがとう(?:ございます)?|感谢|謝謝|고마워|감사합니다)(?:\s*(?:@\S+|so much|a lot|again|!|\.|,))*\s*[!.❤️🙏👍😊🙂]*\s*(?:@\S+)?\s*$/iu;
const OK = /^(?:@\S+\s*)*(?:ok(?:ay)?|got it|perfect|great|nice|cool|super|parfait|genial|perfecto|了解|わかった|알겠어)(?:\s*(?:@\S+|[!.👍]+))*\s*$/iu;

/** The emoji the AI answers with, or null when the message deserves words. */
export function aiReactionFor(body: string): string | null {
  const text = body.trim();
  if (text.length > 80) return null;
  if (THANKS.test(text)) return '❤️';
  if (OK.test(text)) return '👍';
  return null;
}
