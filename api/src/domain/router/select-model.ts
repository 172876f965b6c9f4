/**
 * Auto routing (docs/product.md §4): picks a model tier per request from the request's
 * complexity, limited to the tiers the requester's plan allows. Pure.
 */
import type { Plan } from '../plan';

export type Tier = 'fast' | 'reasoning' | 'top';

export interface RouteRequest {
  /** The triggering message. */
  text: string;
  /** Size of the conversation context that goes with it. */
  contextChars: number;
  /** Questions asked in the recent conversation, the trigger's included. */
  recentQuestionCount?: number;
}

export interface RouteDecision {
  tier: Tier;
  /** Machine-readable, e.g. 'quick_logistics' or 'complex_planning; capped_by_plan'. */
  reason: string;
  /** The complexity score the decision came from, for logs and tuning. */
  complexity: number;
}

export const TIER_ORDER: readonly Tier[] = ['fast', 'reasoning', 'top'];

/**
 * Tiers per plan: Free gets the fast model only, Go and Plus add the reasoning model,
 * and only Pro reaches the top tier. Overridable per call and through configuration.
 */
export const DEFAULT_PLAN_TIERS: Readonly<Record<Plan, readonly Tier[]>> = {
  free: ['fast'],
  go: ['fast', 'reasoning'],
  plus: ['fast', 'reasoning'],
  pro: ['fast', 'reasoning', 'top'],
};

/** Scores at or above which a request wants the reasoning or top tier. */
export const COMPLEXITY_THRESHOLDS = { reasoning: 4, top: 10 } as const;

export function allowedTiers(plan: Plan, overrides?: Partial<Record<Plan, readonly Tier[]>>): readonly Tier[] {
  return overrides?.[plan] ?? DEFAULT_PLAN_TIERS[plan];
}

const LETTER = '\\p{L}\\p{N}';
const wordsRe = (alts: string[], flags = 'gu') => new RegExp(`(?<![${LETTER}])(?:${alts.join('|')})(?![${LETTER}])`, flags);

const PLANNING = [
  wordsRe([
    'plan', 'plans', 'planning', 'itinerary', 'itineraries', 'compare', 'comparison', 'schedule', 'budget', 'pros and cons', 'step by step',
    'optimi[sz]e', 'trade-?offs?', 'strategy', 'agenda', 'timeline', 'logistics', 'allocate', 'split the cost', 'prioriti[sz]e',
    'planen', 'reiseplan', 'vergleich\\w*', 'zeitplan', 'vor- und nachteile', 'schritt für schritt', 'optimieren', 'route', 'kosten aufteilen',
    'planificar', 'plan de viaje', 'itinerario', 'comparar', 'comparación', 'horario', 'presupuesto', 'pros y contras', 'paso a paso', 'optimizar',
    'planifier', 'itinéraire', 'comparer', 'comparaison', 'emploi du temps', 'planning', 'avantages et inconvénients', 'étape par étape', 'optimiser',
  ]),
  /計画|プラン|旅程|スケジュール|比較|予算|メリット|デメリット|ステップ|最適化|日程|行程|일정|계획|예산|비교|计划|行程|预算|比较|計劃|預算|比較/gu,
];

const CONSTRAINT = [
  wordsRe([
    'and', 'but', 'must', 'need to', 'needs to', 'has to', 'have to', 'without', 'under', 'at least', 'at most', 'no more than', 'less than',
    'only', 'except', 'unless', 'between', 'within', 'avoid', 'prefer', 'allergic', 'vegetarian', 'vegan', 'wheelchair', 'kids', 'per person',
    'und', 'aber', 'muss', 'müssen', 'ohne', 'unter', 'mindestens', 'höchstens', 'nur', 'außer', 'vermeiden', 'pro person',
    'y', 'pero', 'debe', 'deben', 'tiene que', 'sin', 'menos de', 'al menos', 'solo', 'excepto', 'evitar', 'por persona',
    'et', 'mais', 'doit', 'doivent', 'il faut', 'sans', 'moins de', 'au moins', 'seulement', 'sauf', 'éviter', 'par personne',
  ]),
  /けど|必要|以内|以下|以上|だけ|なし|避け|ただし|하지만|이내|이하|필요|但是|必须/gu,
];

const NUMBER_OR_DATE = wordsRe([
  '\\d+(?:[.,:/-]\\d+)*(?:st|nd|rd|th|h|am|pm|km|€|k)?', '[$€£¥₩]\\s?\\d[\\d.,]*',
  'monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|january|february|march|april|june|july|august|september|october|november|december',
  'montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|miércoles|jueves|viernes|sábado|domingo|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche',
]);

const CJK_ALL = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

const LOGISTICS = wordsRe(
  ['what time', 'when', 'where', 'open', 'opens', 'close', 'closes', 'address', 'how far', 'how long', 'meet', 'wann', 'wo', 'a qué hora', 'dónde', 'à quelle heure', 'où'],
  'u',
);

function count(text: string, patterns: readonly RegExp[]): number {
  return patterns.reduce((n, re) => n + (text.match(re)?.length ?? 0), 0);
}

/** Word count, with two CJK characters taken as one word. */
function wordCount(text: string): number {
  const cjk = (text.match(CJK_ALL) ?? []).length;
  const latin = text.replace(CJK_ALL, ' ').match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  return latin + Math.ceil(cjk / 2);
}

/**
 * Complexity in points: length, constraints (clauses, conjunctions, numbers, dates,
 * money), planning vocabulary, several questions at once, and a long context.
 */
export function complexityScore(request: RouteRequest): { score: number; planning: boolean } {
  const text = request.text.normalize('NFKC').toLowerCase();
  const words = wordCount(text);
  const planningHits = count(text, PLANNING);
  const constraints = count(text, CONSTRAINT) + (text.match(/[,;\n、，；]/gu)?.length ?? 0) + count(text, [NUMBER_OR_DATE]);
  const questions = text.match(/\?/g)?.length ?? 0;

  let score = 0;
  score += words > 150 ? 4 : words > 80 ? 3 : words > 40 ? 2 : words > 20 ? 1 : 0;
  score += Math.min(3, Math.floor(constraints / 3));
  score += Math.min(3, planningHits);
  score += Math.min(2, Math.max(0, questions - 1));
  if ((request.recentQuestionCount ?? 0) >= 3) score += 1;
  if (request.contextChars > 12_000) score += 1;
  return { score, planning: planningHits > 0 };
}

/**
 * Picks the tier for a request. `tiers` are the tiers the plan allows (default
 * `allowedTiers(plan)`); when the ideal tier is not among them the best allowed one
 * below it is used and the reason says `capped_by_plan`.
 */
export function selectModel(request: RouteRequest, plan: Plan, tiers: readonly Tier[] = allowedTiers(plan)): RouteDecision {
  if (tiers.length === 0) throw new Error(`no model tier allowed for plan ${plan}`);
  const { score, planning } = complexityScore(request);

  let ideal: Tier;
  let why: string;
  if (score >= COMPLEXITY_THRESHOLDS.top) {
    ideal = 'top';
    why = 'very_complex';
  } else if (score >= COMPLEXITY_THRESHOLDS.reasoning) {
    ideal = 'reasoning';
    why = planning ? 'complex_planning' : 'complex_request';
  } else {
    ideal = 'fast';
    why = LOGISTICS.test(request.text.normalize('NFKC').toLowerCase()) ? 'quick_logistics' : 'simple_request';
  }

  if (tiers.includes(ideal)) return { tier: ideal, reason: why, complexity: score };
  const rank = TIER_ORDER.indexOf(ideal);
  const below = [...tiers].filter((t) => TIER_ORDER.indexOf(t) < rank).sort((a, b) => TIER_ORDER.indexOf(b) - TIER_ORDER.indexOf(a));
  if (below.length > 0) return { tier: below[0], reason: `${why}; capped_by_plan`, complexity: score };
  // A plan whose cheapest tier is above the ideal one (unusual configuration).
  const lowest = [...tiers].sort((a, b) => TIER_ORDER.indexOf(a) - TIER_ORDER.indexOf(b))[0];
  return { tier: lowest, reason: `${why}; plan_minimum`, complexity: score };
}
