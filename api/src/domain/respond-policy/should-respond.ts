/**
 * Whether the AI speaks after a human message (docs/product.md §4). Pure and deterministic:
 * the same message, conversation and settings always give the same decision.
 *
 * Order of the rules:
 *  1. mode `OFF`: never.
 *  2. Mentioned (`@AI`, or its name used to address it: "AI, …", "hey Sage …"): always.
 *  3. mode `MENTIONS`: nothing else.
 *  4. `AUTO`: quiet for small talk (greetings, jokes, reactions, emoji) and when a person
 *     is addressed by name or @mention. Right after the AI spoke it stays quiet unless
 *     asked again: a clear follow-up aimed at it ("and what about Osaka?", "can you also
 *     compare prices?") counts; a fresh question does not, so that the humans can react
 *     to its answer without it talking over them. Otherwise it answers questions put to
 *     the group that it can help with and requests for help ("translate …"), and stays
 *     out of personal or social questions among the humans ("are you coming tonight?").
 */
import type { AiMode } from '../ai-mode';
import {
  AFTER_NAME_WITHOUT_COMMA,
  CJK_QUESTION,
  EXCLAMATION,
  FOLLOW_UP_OPENER,
  GREETING_QUESTION,
  HELP_REQUEST,
  HONORIFIC_AFTER,
  HONORIFIC_OPENING,
  INFO_REQUEST,
  INTERROGATIVE_START,
  LAUGHTER,
  SECOND_PERSON,
  SECOND_PERSON_REQUEST,
  SMALL_TALK_CJK,
  SMALL_TALK_TOKENS,
  SOCIAL_QUESTION_CJK,
  SOCIAL_QUESTION_SOURCES,
  VOCATIVE_GREETING,
  escapeRegExp,
  normalizeChat,
} from './lexicon';

export type RespondReason =
  | 'mode_off'
  | 'mentioned'
  | 'not_mentioned'
  | 'small_talk'
  | 'person_addressed'
  | 'ai_just_spoke'
  | 'follow_up'
  | 'social_question'
  | 'question_for_group'
  | 'help_request'
  | 'not_a_question';

export interface TriggerMessage {
  body: string;
  /** Already parsed: the message @mentions the AI. */
  mentionsAi: boolean;
  authorId: string;
  /** Usernames @mentioned in the message (the AI excluded). */
  mentionUsernames: readonly string[];
}

export interface RecentMessage {
  kind: 'USER' | 'AI' | 'SYSTEM';
  authorId: string | null;
  body: string;
  mentionsAi: boolean;
}

export interface RespondOptions {
  aiName: string;
  /** Display names and usernames of the group's human members. */
  memberNames: readonly string[];
}

export interface RespondDecision {
  respond: boolean;
  reason: RespondReason;
}

const LETTER = '\\p{L}\\p{N}';
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const CJK_ALL = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
// "…think about AI?" talks about the AI, not to it.
const NOT_BEFORE_VOCATIVE = '(?:about|of|with|for|from|like|than|the|and|or|to|über|mit|von|sobre|con|de|avec|à|pour)';
const LAUGH_MARK = /[\u{1F602}\u{1F923}\u{1F606}\u{1F639}]/u; // 😂 🤣 😆 😹

/**
 * Rule 2 alone: the message speaks to the AI (an @mention, or its name used to address it).
 * The only thing `MENTIONS` mode answers, so the send decides with it, before any job
 * exists, whether a message in such a group needs one.
 */
export function addressesAi(message: Pick<TriggerMessage, 'body' | 'mentionsAi'>, aiName: string): boolean {
  return message.mentionsAi || addressesByName(normalizeChat(message.body), [aiName]);
}

/**
 * Decides whether the AI answers `message`. `recent` holds the group's messages before
 * it, oldest first (about the last ten are enough).
 */
export function shouldRespond(
  message: TriggerMessage,
  recent: readonly RecentMessage[],
  mode: AiMode,
  options: RespondOptions,
): RespondDecision {
  if (mode === 'OFF') return no('mode_off');
  const text = normalizeChat(message.body);
  if (message.mentionsAi || addressesByName(text, [options.aiName])) return yes('mentioned');
  if (mode === 'MENTIONS') return no('not_mentioned');

  if (isSmallTalk(text)) return no('small_talk');
  const people = memberNamesWithout(options.memberNames, options.aiName);
  if (message.mentionUsernames.length > 0 || HONORIFIC_OPENING.test(text) || addressesByName(text, people)) {
    return no('person_addressed');
  }

  const question = isQuestion(text);
  const info = question && INFO_REQUEST.some((re) => re.test(text));
  const help = !question && HELP_REQUEST.some((re) => re.test(text));
  const social = question && !info && isSocialQuestion(text, people);
  const substantial = contentSize(text) >= 3;

  if (aiSpokeLast(recent)) {
    const followUp =
      SECOND_PERSON_REQUEST.some((re) => re.test(text)) || (question && !social && substantial && FOLLOW_UP_OPENER.test(text.replace(/^[¿¡\s]+/u, '')));
    return followUp ? yes('follow_up') : no('ai_just_spoke');
  }
  if (info) return yes('question_for_group');
  if (help) return yes('help_request');
  if (!question) return no('not_a_question');
  // Banter first: "who ate all the cookies lol?" is a joke, not a question about plans.
  if (LAUGH_MARK.test(message.body) || tokens(text).some((t) => LAUGHTER.test(t))) return no('small_talk');
  if (social) return no('social_question');
  return substantial ? yes('question_for_group') : no('small_talk');
}

function yes(reason: RespondReason): RespondDecision {
  return { respond: true, reason };
}

function no(reason: RespondReason): RespondDecision {
  return { respond: false, reason };
}

function tokens(text: string): string[] {
  return text.match(/[\p{L}\p{N}'-]+/gu) ?? [];
}

/** Latin-script words plus half the CJK characters, roughly a word count. */
function contentSize(text: string): number {
  const cjk = (text.match(CJK_ALL) ?? []).length;
  const latin = tokens(text.replace(CJK_ALL, ' ')).length;
  return latin + Math.ceil(cjk / 2);
}

function aiSpokeLast(recent: readonly RecentMessage[]): boolean {
  for (let i = recent.length - 1; i >= 0; i -= 1) {
    if (recent[i].kind === 'SYSTEM') continue; // "Bob joined" does not end the AI's turn
    return recent[i].kind === 'AI';
  }
  return false;
}

function isSmallTalk(text: string): boolean {
  if (GREETING_QUESTION.test(text)) return true;
  const words = tokens(text);
  // Emoji, punctuation or nothing at all.
  if (words.length === 0) return true;
  return words.every(isSmallTalkWord);
}

function isSmallTalkWord(word: string): boolean {
  if (LAUGHTER.test(word) || (CJK.test(word) && isCjkSmallTalk(word))) return true;
  // Stretched words: "cooool", "yesss", "noooo".
  const variants = [word, word.replace(/(\p{L})\1{2,}/gu, '$1$1'), word.replace(/(\p{L})\1+/gu, '$1')];
  return variants.some((v) => SMALL_TALK_TOKENS.has(v));
}

/** "lol does anyone know …", "hey everyone, what …": the question starts after the filler. */
function withoutLeadingSmallTalk(text: string): string {
  const words = text.split(' ');
  let i = 0;
  while (i < words.length - 1 && isSmallTalkWord(words[i].replace(/[,.!:;]+$/u, ''))) i += 1;
  return words.slice(i).join(' ');
}

/** True when the word splits entirely into small-talk pieces ("ありがとう笑"). */
function isCjkSmallTalk(word: string): boolean {
  const fits: boolean[] = [true];
  for (let end = 1; end <= word.length; end += 1) {
    fits[end] = SMALL_TALK_CJK.some((piece) => end >= piece.length && fits[end - piece.length] && word.startsWith(piece, end - piece.length));
    if (!fits[end] && LAUGHTER.test(word.slice(0, end))) fits[end] = true;
  }
  return fits[word.length];
}

function isQuestion(text: string): boolean {
  if (/[?¿]/.test(text)) return !/^[^?¿]*!$/.test(text);
  if (EXCLAMATION.test(text) || text.endsWith('!')) return false;
  if (INTERROGATIVE_START.test(text) || INTERROGATIVE_START.test(withoutLeadingSmallTalk(text))) return true;
  return CJK.test(text) && CJK_QUESTION.test(text.replace(/[。.!！\s]+$/u, ''));
}

function isSocialQuestion(text: string, people: readonly string[]): boolean {
  if (SOCIAL_QUESTION_CJK.test(text.replace(/[。.\s]+$/u, ''))) return true;
  const names = people.filter((n) => n.length >= 3).map(escapeRegExp);
  const extra = names.length > 0 ? `|${names.join('|')}` : '';
  const social = new RegExp(
    `(?<![${LETTER}])(?:${SOCIAL_QUESTION_SOURCES.map((s) => s.replace('{names}', extra)).join('|')})(?![${LETTER}])`,
    'u',
  );
  if (social.test(text)) return true;
  // A question that names a member is about that person ("is Tom still coming?").
  return names.some((n) => new RegExp(`(?<![${LETTER}])${n}(?![${LETTER}])`, 'u').test(text));
}

/** Lower-cased names plus the first word of multi-word display names ("Tom" of "Tom Baker"). */
function memberNamesWithout(names: readonly string[], aiName: string): string[] {
  const ai = normalizeChat(aiName);
  const out = new Set<string>();
  for (const raw of names) {
    const name = normalizeChat(raw);
    if (!name || name === ai) continue;
    out.add(name);
    const first = name.split(' ')[0];
    if (first !== name && [...first].length >= 2 && first !== ai) out.add(first);
  }
  return [...out];
}

/**
 * A name used to address someone: opening the message ("Tom, …", "hey tom …",
 * "Tom are you …"), closing it after a comma ("…, Tom?"), closing a question that speaks
 * to "you" ("are you coming tom?"), or with an honorific ("トムさん").
 */
function addressesByName(text: string, names: readonly string[]): boolean {
  for (const raw of names) {
    const name = normalizeChat(raw);
    if (!name) continue;
    const n = escapeRegExp(name);
    const notLetter = `(?![${LETTER}])`;
    const patterns = [
      new RegExp(`^@?(?:${VOCATIVE_GREETING}[ ,]+)?${n}${notLetter}\\s*[,:!、，]`, 'u'),
      new RegExp(`^@?${VOCATIVE_GREETING}[ ,]+${n}${notLetter}`, 'u'),
      new RegExp(`^@?${n} ${AFTER_NAME_WITHOUT_COMMA}${notLetter}`, 'u'),
      new RegExp(`[,、，]\\s*${n}\\s*[?!.。]*$`, 'u'),
      new RegExp(`(?<![${LETTER}])${n}${HONORIFIC_AFTER}`, 'u'),
    ];
    if (patterns.some((re) => re.test(text))) return true;
    const closing = new RegExp(`(?<![${LETTER}])(?<!${NOT_BEFORE_VOCATIVE} )${n}\\s*[?!.]*$`, 'u');
    if (closing.test(text) && SECOND_PERSON.test(text)) return true;
  }
  return false;
}
