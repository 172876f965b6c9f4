import { blocksAiInput, CATEGORIES, CategoryScores, ModerationCategory, THRESHOLDS, classifyLocal, emptyScores, moderationDecision, moderationFromOpenAI } from './moderation';

const scores = (partial: Partial<CategoryScores>): CategoryScores => ({ ...emptyScores(), ...partial });

describe('classifyLocal on everyday messages', () => {
  it.each([
    'this pizza is killer',
    "I'm dying of laughter",
    "let's shoot some photos at the shrine",
    "I'll shoot you a message when I land",
    'you killed it at karaoke!',
    "I'll beat you at chess tonight",
    'can you grab me a coke?',
    'I cut myself while cooking, nothing serious',
    'Suicide Squad was a terrible movie',
    'the suicide prevention hotline number is on the poster',
    'sex education for kids starts in grade 5',
    'same-sex marriage is legal in Taiwan',
    'she graduated summa cum laude',
    'shiitake risotto for dinner?',
    'Moby Dick is a long book',
    'what kind of cake do the kids want?',
    'fire retardant paint',
    'we need to kill some time before the train',
    'das ist echt geil, danke!',
    'vamos con Juan al concierto',
    'je suis nul en maths',
    'il faut tuer le temps avant le concert',
    '今日のラーメン最高だった',
    'the movie was sexy fun',
  ])('does not flag "%s" in any profile', (text) => {
    const { categories, flagged } = classifyLocal(text);
    expect(flagged).toEqual([]);
    expect(moderationDecision(categories, 'STANDARD').flagged).toBe(false);
    expect(moderationDecision(categories, 'TEEN').flagged).toBe(false);
  });

  it('lets mild swearing through unflagged', () => {
    for (const text of ['shit, I forgot my keys', 'fuck, the train is late again', 'Scheiße, der Zug ist weg']) {
      expect(moderationDecision(classifyLocal(text).categories, 'TEEN').flagged).toBe(false);
    }
  });
});

describe('classifyLocal on harmful messages', () => {
  const rows: [text: string, category: ModerationCategory, atLeast: number][] = [
    // self-harm
    ['I want to die', 'self-harm', 0.8],
    ["I'm going to kill myself tonight", 'self-harm', 0.8],
    ['how many pills would it take to overdose', 'self-harm', 0.9],
    ['I keep cutting myself when I feel like this', 'self-harm', 0.7],
    ['Ich will nicht mehr leben', 'self-harm', 0.8],
    ['quiero morirme', 'self-harm', 0.8],
    ['je veux mourir', 'self-harm', 0.8],
    ['もう死にたい', 'self-harm', 0.8],
    // violence
    ['I will kill you', 'violence', 0.8],
    ["i'll k1ll y0u", 'violence', 0.8],
    ["I'm gonna beat you up after school", 'violence', 0.65],
    ['Ich bring dich um', 'violence', 0.8],
    ['te voy a matar', 'violence', 0.8],
    ['je vais te tuer', 'violence', 0.8],
    ['殺すぞ', 'violence', 0.8],
    ["I'm going to shoot up the school tomorrow", 'violence', 0.9],
    // harassment
    ['you are such a fucking idiot', 'harassment', 0.7],
    ['you stupid bitch', 'harassment', 0.7],
    ['f*ck you', 'harassment', 0.7],
    ['kill yourself', 'harassment', 0.85],
    ['Du bist so ein Idiot', 'harassment', 0.7],
    ['eres un imbécil', 'harassment', 0.7],
    ["t'es un connard", 'harassment', 0.7],
    ['お前バカだな', 'harassment', 0.7],
    // hate
    ['jews are vermin', 'hate', 0.85],
    ['all muslims should die', 'hate', 0.9],
    ['Die Ausländer sind Ungeziefer', 'hate', 0.85],
    ['los inmigrantes son ratas', 'hate', 0.85],
    ['les arabes sont des animaux', 'hate', 0.85],
    ['n1gger', 'hate', 0.85],
    // illicit
    ['where can I buy cocaine around here', 'illicit', 0.8],
    ['how do I make a bomb', 'illicit', 0.9],
    ['anyone have a good meth recipe', 'illicit', 0.9],
    ['Wo kann ich Koks kaufen?', 'illicit', 0.8],
    ['¿Cómo fabricar una bomba casera?', 'illicit', 0.9],
    ['comment fabriquer une bombe', 'illicit', 0.9],
    ['爆弾の作り方を教えて', 'illicit', 0.9],
    ["how to hack into my ex's instagram account", 'illicit', 0.75],
    // sexual
    ['send me nudes', 'sexual', 0.7],
    ['wanna see my dick?', 'sexual', 0.6],
    ['lass uns ficken', 'sexual', 0.55],
    ['quiero follar contigo', 'sexual', 0.55],
    ['I found some porn on his laptop', 'sexual', 0.55],
    // sexual/minors
    ["send nudes, I'm 14", 'sexual/minors', 0.9],
    ['naked pics of a 12 year old', 'sexual/minors', 0.9],
    ['where to find child porn', 'sexual/minors', 0.9],
    ['fotos desnudas de niñas', 'sexual/minors', 0.9],
    ['Kinderpornos tauschen', 'sexual/minors', 0.9],
  ];

  it.each(rows)('"%s" scores %s at least %d', (text, category, atLeast) => {
    const result = classifyLocal(text);
    expect(result.categories[category]).toBeGreaterThanOrEqual(atLeast);
    expect(result.flagged).toContain(category);
    expect(result.signals.some((s) => s.startsWith(`${category}:`))).toBe(true);
  });

  it('grades mild cases below severe ones', () => {
    const s = (text: string, c: ModerationCategory) => classifyLocal(text).categories[c];
    expect(s('suicide is a heavy topic', 'self-harm')).toBeLessThan(s('I want to kill myself', 'self-harm'));
    expect(s('I want to kill myself', 'self-harm')).toBeLessThan(s('what is the most painless way to kill myself', 'self-harm'));
    expect(s('the movie had a sex scene', 'sexual')).toBeLessThan(s('send me nudes', 'sexual'));
    expect(s('he is an idiot', 'harassment')).toBeLessThan(s('you are an idiot', 'harassment'));
    expect(s('you are an idiot', 'harassment')).toBeLessThan(s('you worthless cunt', 'harassment'));
    expect(s('the film was about a murder', 'violence')).toBeLessThan(s('beat you up', 'violence'));
    expect(s('beat you up', 'violence')).toBeLessThan(s('I will kill you', 'violence'));
    expect(s('a documentary about cocaine', 'illicit')).toBeLessThan(s('buy cocaine', 'illicit'));
  });

  it('scores a threat said with "lol" lower than the same threat said plainly', () => {
    expect(classifyLocal("I'll kill you lol").categories.violence).toBeLessThan(classifyLocal("I'll kill you").categories.violence);
  });

  it('returns every category, each between 0 and 1', () => {
    const { categories } = classifyLocal('you stupid bitch, I will kill you and sell cocaine');
    expect(Object.keys(categories).sort()).toEqual([...CATEGORIES].sort());
    for (const c of CATEGORIES) {
      expect(categories[c]).toBeGreaterThanOrEqual(0);
      expect(categories[c]).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic', () => {
    expect(classifyLocal('I will kill you')).toEqual(classifyLocal('I will kill you'));
  });
});

describe('moderationDecision', () => {
  it('is stricter for TEEN than for STANDARD on every category', () => {
    for (const c of CATEGORIES) {
      expect(THRESHOLDS.TEEN[c].flag).toBeLessThanOrEqual(THRESHOLDS.STANDARD[c].flag);
      expect(THRESHOLDS.TEEN[c].high).toBeLessThanOrEqual(THRESHOLDS.STANDARD[c].high);
    }
  });

  it('flags nothing below the thresholds', () => {
    expect(moderationDecision(scores({ sexual: 0.1, violence: 0.2 }), 'TEEN')).toEqual({
      flagged: false,
      severity: 'none',
      categories: [],
      block: false,
      hideUntilReviewed: false,
    });
  });

  it('blocks explicit sexual content for TEEN at a score STANDARD only flags as low', () => {
    const explicit = classifyLocal('lass uns ficken').categories;
    expect(moderationDecision(explicit, 'STANDARD')).toMatchObject({ flagged: true, severity: 'low', block: false, hideUntilReviewed: false });
    expect(moderationDecision(explicit, 'TEEN')).toMatchObject({ flagged: true, severity: 'high', block: true, hideUntilReviewed: true });
    expect(moderationDecision(scores({ sexual: 0.3 }), 'STANDARD').flagged).toBe(false);
    expect(moderationDecision(scores({ sexual: 0.3 }), 'TEEN')).toMatchObject({ flagged: true, severity: 'low', block: false });
  });

  it('treats sexual content involving minors as high severity and blocks it everywhere', () => {
    for (const profile of ['STANDARD', 'TEEN'] as const) {
      expect(moderationDecision(scores({ 'sexual/minors': 0.35 }), profile)).toMatchObject({ flagged: true, severity: 'high', block: true, categories: ['sexual/minors'] });
      expect(moderationDecision(classifyLocal("send nudes, I'm 14").categories, profile)).toMatchObject({ severity: 'high', block: true });
    }
  });

  it('grades severity low, medium and high between the thresholds', () => {
    expect(moderationDecision(scores({ violence: 0.55 }), 'STANDARD').severity).toBe('low');
    expect(moderationDecision(scores({ violence: 0.7 }), 'STANDARD').severity).toBe('medium');
    expect(moderationDecision(scores({ violence: 0.9 }), 'STANDARD').severity).toBe('high');
  });

  it('blocks from high severity in STANDARD and from medium in TEEN', () => {
    expect(moderationDecision(scores({ harassment: 0.75 }), 'STANDARD')).toMatchObject({ severity: 'medium', block: false });
    expect(moderationDecision(scores({ harassment: 0.6 }), 'TEEN')).toMatchObject({ severity: 'medium', block: true, hideUntilReviewed: false });
    expect(moderationDecision(scores({ harassment: 0.9 }), 'STANDARD')).toMatchObject({ severity: 'high', block: true, hideUntilReviewed: false });
  });

  it('hides high-severity messages until review only in TEEN groups', () => {
    const threat = classifyLocal('I will kill you').categories;
    expect(moderationDecision(threat, 'STANDARD').hideUntilReviewed).toBe(false);
    expect(moderationDecision(threat, 'TEEN').hideUntilReviewed).toBe(true);
  });

  it('lists flagged categories most severe first', () => {
    const decision = moderationDecision(scores({ harassment: 0.55, violence: 0.95, illicit: 0.7 }), 'STANDARD');
    expect(decision.categories).toEqual(['violence', 'illicit', 'harassment']);
    expect(decision.severity).toBe('high');
  });
});

describe('moderationFromOpenAI', () => {
  const result = {
    flagged: true,
    categories: {
      harassment: false,
      'harassment/threatening': true,
      hate: false,
      'hate/threatening': false,
      illicit: false,
      'illicit/violent': false,
      'self-harm': false,
      'self-harm/intent': false,
      'self-harm/instructions': false,
      sexual: false,
      'sexual/minors': false,
      violence: true,
      'violence/graphic': false,
    },
    category_scores: {
      harassment: 0.2,
      'harassment/threatening': 0.91,
      hate: 0.01,
      'hate/threatening': 0.002,
      illicit: 0.03,
      'illicit/violent': 0.12,
      'self-harm': 0.001,
      'self-harm/intent': 0.3,
      'self-harm/instructions': 0.0005,
      sexual: 0.02,
      'sexual/minors': 0.001,
      violence: 0.88,
      'violence/graphic': 0.1,
    },
  };

  it('takes the maximum over each category’s subkeys and keeps sexual/minors apart', () => {
    expect(moderationFromOpenAI(result)).toEqual({
      harassment: 0.91,
      hate: 0.01,
      'self-harm': 0.3,
      sexual: 0.02,
      'sexual/minors': 0.001,
      violence: 0.88,
      illicit: 0.12,
    });
  });

  it('accepts the whole response and a list of results', () => {
    expect(moderationFromOpenAI({ results: [result] })).toEqual(moderationFromOpenAI(result));
    expect(moderationFromOpenAI([result, { category_scores: { hate: 0.7 } }]).hate).toBe(0.7);
  });

  it('lifts a category the provider flagged to at least the flag threshold', () => {
    const mapped = moderationFromOpenAI({ categories: { 'self-harm/intent': true }, category_scores: { 'self-harm/intent': 0.2 } });
    expect(mapped['self-harm']).toBe(THRESHOLDS.STANDARD['self-harm'].flag);
    expect(moderationDecision(mapped, 'STANDARD').flagged).toBe(true);
  });

  it('ignores unknown keys, missing scores and nonsense values', () => {
    expect(moderationFromOpenAI({ category_scores: { spam: 0.99, violence: null, hate: Number.NaN, sexual: 7 } })).toEqual(scores({ sexual: 1 }));
    expect(moderationFromOpenAI({})).toEqual(emptyScores());
  });

  it('feeds moderationDecision like the local classifier does', () => {
    expect(moderationDecision(moderationFromOpenAI(result), 'TEEN')).toMatchObject({ flagged: true, severity: 'high', block: true, categories: ['harassment', 'violence', 'self-harm'] });
  });
});

describe('blocksAiInput', () => {
  it('lets the AI answer someone in distress but not a blocked threat', () => {
    expect(blocksAiInput({ block: true, categories: ['self-harm'] })).toBe(false);
    expect(blocksAiInput({ block: true, categories: ['violence'] })).toBe(true);
    expect(blocksAiInput({ block: true, categories: ['self-harm', 'violence'] })).toBe(true);
    expect(blocksAiInput({ block: false, categories: ['violence'] })).toBe(false);
  });
});
