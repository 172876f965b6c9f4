/**
 * Moderation (docs/product.md §6): a local classifier with real categories, the mapping of the
 * OpenAI moderation endpoint onto the same categories, and the decision per safety
 * profile. Pure and deterministic.
 *
 * The local classifier combines obscenity's English word list (which sees through
 * leetspeak, repeated letters and look-alike characters) with multilingual phrase
 * patterns for threats, intent and instructions. Each category's score is a noisy-or of
 * its signals, so several weak signals add up while one strong signal dominates.
 */
import { DataSet, RegExpMatcher, englishDataset, englishRecommendedTransformers, pattern } from 'obscenity';
import {
  BANTER,
  CATEGORIES,
  HARASSMENT_SIGNALS,
  HATE_SIGNALS,
  ILLICIT_SIGNALS,
  MINOR_TERMS,
  ModerationCategory,
  NAKED_MINOR,
  SELF_HARM_SAFE_CONTEXT,
  SELF_HARM_SIGNALS,
  SEXUAL_MINORS_TERMS,
  SEXUAL_SAFE_CONTEXT,
  SEXUAL_SIGNALS,
  Signal,
  VIOLENCE_SIGNALS,
  WORD_SCORES,
} from './moderation-lexicon';

export { CATEGORIES } from './moderation-lexicon';
export type { ModerationCategory } from './moderation-lexicon';

export type CategoryScores = Record<ModerationCategory, number>;
export type ModerationProfile = 'STANDARD' | 'TEEN';
export type Severity = 'none' | 'low' | 'medium' | 'high';

export interface LocalClassification {
  categories: CategoryScores;
  /** Categories at or above the STANDARD flag threshold. */
  flagged: ModerationCategory[];
  /** What matched, e.g. 'violence:threat', 'word:fuck': for the safety case. */
  signals: string[];
}

export interface ModerationDecision {
  flagged: boolean;
  severity: Severity;
  /** Flagged categories, most severe first. */
  categories: ModerationCategory[];
  /** Do not publish: the AI's output is withheld, its input is not answered. */
  block: boolean;
  /** A human message to hide until staff review it (TEEN groups, high severity). */
  hideUntilReviewed: boolean;
}

export interface CategoryThreshold {
  /** Score from which the category is flagged (low severity). */
  flag: number;
  /** Score from which it is high severity; medium lies halfway between. */
  high: number;
}

/**
 * Per-profile thresholds. TEEN flags everything earlier and treats sexual content as high
 * severity from a score STANDARD only flags as low. Sexual content involving minors is
 * high severity, and blocked, in every profile.
 */
export const THRESHOLDS: Readonly<Record<ModerationProfile, Readonly<Record<ModerationCategory, CategoryThreshold>>>> = {
  STANDARD: {
    harassment: { flag: 0.5, high: 0.85 },
    hate: { flag: 0.4, high: 0.8 },
    'self-harm': { flag: 0.4, high: 0.8 },
    sexual: { flag: 0.5, high: 0.85 },
    'sexual/minors': { flag: 0.3, high: 0.3 },
    violence: { flag: 0.5, high: 0.85 },
    illicit: { flag: 0.5, high: 0.85 },
  },
  TEEN: {
    harassment: { flag: 0.35, high: 0.7 },
    hate: { flag: 0.3, high: 0.6 },
    'self-harm': { flag: 0.25, high: 0.6 },
    sexual: { flag: 0.25, high: 0.45 },
    'sexual/minors': { flag: 0.1, high: 0.1 },
    violence: { flag: 0.35, high: 0.7 },
    illicit: { flag: 0.3, high: 0.6 },
  },
};

/** The lowest severity that blocks, per profile: TEEN blocks from medium, STANDARD only high. */
export const BLOCK_FROM: Readonly<Record<ModerationProfile, Exclude<Severity, 'none'>>> = { STANDARD: 'high', TEEN: 'medium' };

const SEVERITY_RANK: Record<Severity, number> = { none: 0, low: 1, medium: 2, high: 3 };

export function emptyScores(): CategoryScores {
  return { harassment: 0, hate: 0, 'self-harm': 0, sexual: 0, 'sexual/minors': 0, violence: 0, illicit: 0 };
}

// obscenity's list, minus words it matches too eagerly ("cum laude", "blue tit",
// "shiitake", "cockpit", "Moby Dick", "rapeseed", "retardant", "same-sex", Spanish "negro"), which
// come back with word boundaries and exceptions.
const REPLACED = new Set(['cum', 'tit', 'cock', 'dick', 'pussy', 'rape', 'sex', 'boob', 'shit', 'negro', 'retard']);
const dataset = new DataSet<{ originalWord: string }>()
  .addAll(englishDataset)
  .removePhrasesIf((p) => REPLACED.has(p.metadata?.originalWord ?? ''))
  .addPhrase((p) => p.setMetadata({ originalWord: 'cum' }).addPattern(pattern`|cum|`).addPattern(pattern`|cum[m]ing|`).addPattern(pattern`|cums|`).addPattern(pattern`cumshot`).addWhitelistedTerm('cum laude'))
  .addPhrase((p) =>
    p.setMetadata({ originalWord: 'tit' }).addPattern(pattern`|tit|`).addPattern(pattern`|tits|`).addPattern(pattern`|titty|`).addPattern(pattern`|titties|`)
      .addWhitelistedTerm('tit for tat').addWhitelistedTerm('tit-for-tat').addWhitelistedTerm('blue tit').addWhitelistedTerm('great tit'))
  .addPhrase((p) => p.setMetadata({ originalWord: 'cock' }).addPattern(pattern`|cock|`).addPattern(pattern`|cocks|`).addPattern(pattern`cocksucker`))
  .addPhrase((p) => p.setMetadata({ originalWord: 'dick' }).addPattern(pattern`|dick|`).addPattern(pattern`|dicks|`).addPattern(pattern`dickhead`).addWhitelistedTerm('moby dick').addWhitelistedTerm('dick van dyke'))
  .addPhrase((p) => p.setMetadata({ originalWord: 'pussy' }).addPattern(pattern`|pussy|`).addPattern(pattern`|pussies|`))
  .addPhrase((p) => p.setMetadata({ originalWord: 'rape' }).addPattern(pattern`|rape|`).addPattern(pattern`|raped|`).addPattern(pattern`|rapes|`).addPattern(pattern`|raping|`).addPattern(pattern`|rapist|`))
  .addPhrase((p) => p.setMetadata({ originalWord: 'boob' }).addPattern(pattern`|boob|`).addPattern(pattern`|boobs|`).addPattern(pattern`|boobies|`))
  .addPhrase((p) => p.setMetadata({ originalWord: 'retard' }).addPattern(pattern`|retard|`).addPattern(pattern`|retards|`).addPattern(pattern`|retarded|`))
  .addPhrase((p) => p.setMetadata({ originalWord: 'shit' }).addPattern(pattern`shit`).addWhitelistedTerm('shiitake').addWhitelistedTerm('shitake'));
const matcher = new RegExpMatcher({ ...dataset.build(), ...englishRecommendedTransformers });

const SEXUAL_SAFE_ALL = new RegExp(SEXUAL_SAFE_CONTEXT.source, 'gu');

function prepare(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };

/** "k1ll y0u" → "kill you"; digits inside words only, so "13 year old" stays. */
function unleet(text: string): string {
  return text.replace(/[\p{L}0-9@$!]*\p{L}[\p{L}0-9@$!]*/gu, (word) => word.replace(/[013457@$!]/g, (c) => LEET[c] ?? c));
}

/** Scores a text on every category with the built-in classifier. */
export function classifyLocal(text: string): LocalClassification {
  const plain = prepare(text);
  const variants = [...new Set([plain, unleet(plain)])];
  const hits = new Map<string, { category: ModerationCategory; score: number }>();
  const hit = (label: string, category: ModerationCategory, score: number) => {
    const key = `${category}:${label}`;
    if ((hits.get(key)?.score ?? 0) < score) hits.set(key, { category, score });
  };

  const banter = BANTER.test(plain);
  const selfHarmSafe = SELF_HARM_SAFE_CONTEXT.test(plain);
  const sexualText = (v: string) => v.replace(SEXUAL_SAFE_ALL, ' ');
  // Sexual signals read the text with its safe contexts blanked out, worked out once.
  const sexualVariants = variants.map(sexualText);
  const groups: [Signal[], string[]][] = [
    [HARASSMENT_SIGNALS, variants],
    [HATE_SIGNALS, variants],
    [SELF_HARM_SIGNALS, variants],
    [VIOLENCE_SIGNALS, variants],
    [ILLICIT_SIGNALS, variants],
    [SEXUAL_SIGNALS, sexualVariants],
  ];
  for (const [signals, texts] of groups) {
    for (const signal of signals) {
      if (!texts.some((v) => signal.pattern.test(v))) continue;
      let score = signal.score;
      if (banter && signal.banter) score *= 0.6;
      if (selfHarmSafe && signal.category === 'self-harm' && signal.label !== 'method') score *= 0.25;
      hit(signal.label, signal.category, score);
    }
  }

  const forWords = sexualVariants[0];
  for (const match of matcher.getAllMatches(forWords)) {
    const word = dataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord;
    if (!word) continue;
    for (const [category, score] of Object.entries(WORD_SCORES[word] ?? {}) as [ModerationCategory, number][]) hit(`word:${word}`, category, score);
  }

  const scores = emptyScores();
  for (const { category, score } of hits.values()) scores[category] = 1 - (1 - scores[category]) * (1 - score);

  // Sexual content together with a minor is always the most severe case.
  const minor = MINOR_TERMS.some((re) => re.test(plain));
  if (SEXUAL_MINORS_TERMS.some((re) => re.test(plain)) || NAKED_MINOR.test(plain) || (minor && scores.sexual >= 0.35)) {
    hits.set('sexual/minors:sexual_with_minor', { category: 'sexual/minors', score: 0.95 });
    scores['sexual/minors'] = 0.95;
    scores.sexual = Math.max(scores.sexual, 0.6);
  }

  for (const c of CATEGORIES) scores[c] = round(scores[c]);
  return {
    categories: scores,
    flagged: CATEGORIES.filter((c) => scores[c] >= THRESHOLDS.STANDARD[c].flag),
    signals: [...hits.keys()].sort(),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** How a score record is to be treated in a group of the given profile. */
export function moderationDecision(
  scores: CategoryScores,
  profile: ModerationProfile,
  thresholds: Readonly<Record<ModerationProfile, Readonly<Record<ModerationCategory, CategoryThreshold>>>> = THRESHOLDS,
): ModerationDecision {
  const table = thresholds[profile];
  const flagged: { category: ModerationCategory; severity: Severity; score: number }[] = [];
  for (const category of CATEGORIES) {
    const score = scores[category] ?? 0;
    const { flag, high } = table[category];
    if (score < flag) continue;
    const severity: Severity = category === 'sexual/minors' || score >= high ? 'high' : score >= (flag + high) / 2 ? 'medium' : 'low';
    flagged.push({ category, severity, score });
  }
  flagged.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.score - a.score);
  const severity = flagged[0]?.severity ?? 'none';
  const block = severity !== 'none' && SEVERITY_RANK[severity] >= SEVERITY_RANK[BLOCK_FROM[profile]];
  return {
    flagged: flagged.length > 0,
    severity,
    categories: flagged.map((f) => f.category),
    block: block || flagged.some((f) => f.category === 'sexual/minors'),
    hideUntilReviewed: profile === 'TEEN' && severity === 'high',
  };
}

/** One result of the OpenAI moderation endpoint, as far as this module reads it. */
export interface OpenAIModerationResult {
  flagged?: boolean;
  categories?: Record<string, boolean | null | undefined>;
  category_scores?: Record<string, number | null | undefined>;
}

export type OpenAIModerationInput = OpenAIModerationResult | readonly OpenAIModerationResult[] | { results: readonly OpenAIModerationResult[] };

function resultsOf(input: OpenAIModerationInput): readonly OpenAIModerationResult[] {
  if (Array.isArray(input)) return input;
  if ('results' in input && Array.isArray(input.results)) return input.results;
  return [input as OpenAIModerationResult];
}

/**
 * Maps OpenAI moderation results onto the local categories: each category takes the
 * maximum over its subkeys ('violence', 'violence/graphic'; 'self-harm/intent', …;
 * 'sexual/minors' stays its own category). A category the provider marked as flagged
 * scores at least the STANDARD flag threshold, so its own judgement is never lost.
 * Accepts one result, a list, or the whole response ({ results }).
 */
export function moderationFromOpenAI(input: OpenAIModerationInput): CategoryScores {
  const scores = emptyScores();
  for (const result of resultsOf(input)) {
    for (const [key, value] of Object.entries(result.category_scores ?? {})) {
      const category = categoryOf(key);
      if (category && typeof value === 'number' && Number.isFinite(value)) scores[category] = Math.max(scores[category], clamp(value));
    }
    for (const [key, value] of Object.entries(result.categories ?? {})) {
      const category = categoryOf(key);
      if (category && value === true) scores[category] = Math.max(scores[category], THRESHOLDS.STANDARD[category].flag);
    }
  }
  return scores;
}

function categoryOf(key: string): ModerationCategory | null {
  const k = key.toLowerCase();
  if (/^sexual[/_-]minors$/.test(k)) return 'sexual/minors';
  // 'self-harm/intent', 'self_harm_intent', 'violence/graphic', 'illicit/violent'
  const base = /^self[-_]harm/.test(k) ? 'self-harm' : k.split(/[/_-]/)[0];
  return (CATEGORIES as readonly string[]).includes(base) ? (base as ModerationCategory) : null;
}

function clamp(n: number): number {
  return Math.min(1, Math.max(0, n));
}

/**
 * Whether a person's message is too harmful for the AI to answer at all. Self-harm alone
 * is not: someone in distress should get a careful answer (the system prompt asks for
 * one, and the reply is moderated like any other), not silence.
 */
export function blocksAiInput(decision: Pick<ModerationDecision, 'block' | 'categories'>): boolean {
  return decision.block && decision.categories.some((c) => c !== 'self-harm');
}
