import { Plan, PLANS } from '../plan';
import { DEFAULT_PLAN_TIERS, Tier, allowedTiers, complexityScore, selectModel } from './select-model';

const QUICK = 'what time does the museum open?';
const PLANNING =
  'Can you plan a 5-day itinerary for Kyoto and Osaka for the four of us from April 3rd to April 8th? Budget is ¥150,000 per person ' +
  'including hotels, we must avoid early mornings, Kenji is vegetarian, and we want to compare staying in one hotel vs two.';
const VERY_COMPLEX =
  'We need a detailed plan for our 10-day Japan trip in October for 6 people: compare the JR pass with individual tickets, ' +
  'optimize the route between Tokyo, Kanazawa, Kyoto, Hiroshima and Osaka, keep the total budget under ¥1,200,000, ' +
  'schedule two rest days, avoid more than 3 hours of travel per day, one of us uses a wheelchair and two are vegan, ' +
  'and give us the pros and cons of each option step by step. Which hotels are best near stations? How should we split costs ' +
  'between couples and singles? And what is the best day for the Miyajima ferry?';

const request = (text: string, contextChars = 2_000, recentQuestionCount = 1) => ({ text, contextChars, recentQuestionCount });

describe('selectModel', () => {
  const rows: [name: string, text: string, plan: Plan, tier: Tier, reason: string][] = [
    ['a short logistics question', QUICK, 'plus', 'fast', 'quick_logistics'],
    ['a short logistics question in German', 'Wann öffnet das Museum?', 'pro', 'fast', 'quick_logistics'],
    ['a quick fact', 'how do you say thank you in Korean?', 'pro', 'fast', 'simple_request'],
    ['a one-word plan mention', "what's the plan for tonight?", 'plus', 'fast', 'simple_request'],
    ['a long multi-constraint planning request', PLANNING, 'plus', 'reasoning', 'complex_planning'],
    ['the same request on Go', PLANNING, 'go', 'reasoning', 'complex_planning'],
    ['the same request on Free', PLANNING, 'free', 'fast', 'complex_planning; capped_by_plan'],
    ['the same request on Pro', PLANNING, 'pro', 'reasoning', 'complex_planning'],
    ['a very complex request on Pro', VERY_COMPLEX, 'pro', 'top', 'very_complex'],
    ['a very complex request on Plus', VERY_COMPLEX, 'plus', 'reasoning', 'very_complex; capped_by_plan'],
    ['a very complex request on Free', VERY_COMPLEX, 'free', 'fast', 'very_complex; capped_by_plan'],
    [
      'a Spanish planning request',
      'Necesitamos planificar un itinerario de 4 días en Barcelona para 5 personas, con un presupuesto de 300€ por persona, sin coche, y comparar hoteles en el Born y en Gràcia.',
      'plus',
      'reasoning',
      'complex_planning',
    ],
    [
      'a French planning request',
      "Pouvez-vous planifier un itinéraire de 3 jours à Lyon pour 4 personnes, avec un budget de 200€ par personne, sans voiture, et comparer les avantages et inconvénients de deux quartiers ?",
      'go',
      'reasoning',
      'complex_planning',
    ],
    [
      'a Japanese planning request',
      '来月の京都旅行の計画を立てたい。予算は一人3万円以内、3日間、4人で、朝早いのは避けたい。ホテルを比較して、日程を最適化して。',
      'plus',
      'reasoning',
      'complex_planning',
    ],
  ];

  it.each(rows)('%s → %s', (_name, text, plan, tier, reason) => {
    expect(selectModel(request(text), plan)).toMatchObject({ tier, reason });
  });

  it('never gives a plan a tier it lacks, whatever the request', () => {
    for (const plan of PLANS) {
      for (const text of [QUICK, PLANNING, VERY_COMPLEX]) {
        expect(DEFAULT_PLAN_TIERS[plan]).toContain(selectModel(request(text), plan).tier);
      }
    }
  });

  it('sends the short question and the planning request to different tiers', () => {
    expect(selectModel(request(QUICK), 'plus').tier).not.toBe(selectModel(request(PLANNING), 'plus').tier);
  });

  it('takes the allowed tiers as an argument', () => {
    expect(selectModel(request(VERY_COMPLEX), 'plus', ['fast', 'reasoning', 'top'])).toMatchObject({ tier: 'top', reason: 'very_complex' });
    expect(selectModel(request(PLANNING), 'pro', ['fast'])).toMatchObject({ tier: 'fast', reason: 'complex_planning; capped_by_plan' });
    expect(selectModel(request(QUICK), 'pro', ['reasoning'])).toMatchObject({ tier: 'reasoning', reason: 'quick_logistics; plan_minimum' });
    expect(() => selectModel(request(QUICK), 'free', [])).toThrow(/no model tier/);
  });

  it('counts several questions, a busy conversation and a long context towards complexity', () => {
    const base = complexityScore(request('Which hotel is closer to the station, and is breakfast included?')).score;
    expect(complexityScore(request('Which hotel is closer to the station? Is breakfast included? Can we check in early?')).score).toBeGreaterThan(base);
    expect(complexityScore({ text: QUICK, contextChars: 20_000, recentQuestionCount: 5 }).score).toBe(complexityScore(request(QUICK)).score + 2);
  });

  it('is deterministic', () => {
    expect(selectModel(request(PLANNING), 'plus')).toEqual(selectModel(request(PLANNING), 'plus'));
  });
});

describe('allowedTiers', () => {
  it('has defaults in which Free < Go <= Plus < Pro', () => {
    expect(allowedTiers('free')).toEqual(['fast']);
    expect(allowedTiers('go')).toEqual(['fast', 'reasoning']);
    expect(allowedTiers('plus')).toEqual(['fast', 'reasoning']);
    expect(allowedTiers('pro')).toEqual(['fast', 'reasoning', 'top']);
  });

  it('takes overrides per plan', () => {
    expect(allowedTiers('free', { free: ['fast', 'reasoning'] })).toEqual(['fast', 'reasoning']);
    expect(allowedTiers('go', { free: ['fast', 'reasoning'] })).toEqual(['fast', 'reasoning']);
  });
});
