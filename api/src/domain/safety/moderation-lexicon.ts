/**
 * The local moderation classifier's knowledge: weights for the words of obscenity's
 * English data set, and multilingual phrase patterns (English, German, Spanish, French,
 * Japanese) for what a word list cannot see — threats, intent, instructions, and who an
 * insult is aimed at. Patterns run on text prepared by `prepare` in moderation.ts:
 * NFKC, lower case, straight quotes, single spaces.
 */
export const CATEGORIES = ['harassment', 'hate', 'self-harm', 'sexual', 'sexual/minors', 'violence', 'illicit'] as const;
export type ModerationCategory = (typeof CATEGORIES)[number];

export interface Signal {
  label: string;
  category: ModerationCategory;
  score: number;
  pattern: RegExp;
  /** Threats and insults said with "lol" are often banter; they score lower then. */
  banter?: boolean;
}

const LETTER = '\\p{L}\\p{N}';
/** Whole-word alternatives; JavaScript's \b would not see é, ü or ñ as letters. */
const w = (...alts: string[]) => new RegExp(`(?<![${LETTER}])(?:${alts.join('|')})(?![${LETTER}])`, 'u');
/** Alternatives anywhere, for Japanese and Chinese. */
const any = (...alts: string[]) => new RegExp(alts.join('|'), 'u');

/**
 * Scores for the words obscenity finds (its `originalWord`). Profanity alone is barely a
 * signal; slurs and explicit sexual terms are.
 */
export const WORD_SCORES: Readonly<Record<string, Partial<Record<ModerationCategory, number>>>> = {
  // slurs
  abo: { hate: 0.8 }, abeed: { hate: 0.85 }, africoon: { hate: 0.9 }, arabush: { hate: 0.85 }, boonga: { hate: 0.85 },
  chingchong: { hate: 0.8 }, chink: { hate: 0.85 }, kike: { hate: 0.9 }, nigger: { hate: 0.9 }, fag: { hate: 0.75 },
  dyke: { hate: 0.6 }, tranny: { hate: 0.7 }, spastic: { hate: 0.4, harassment: 0.3 }, retard: { hate: 0.45, harassment: 0.35 },
  // sexual
  anal: { sexual: 0.4 }, anus: { sexual: 0.1 }, bestiality: { sexual: 0.8 }, blowjob: { sexual: 0.75 }, boob: { sexual: 0.3 },
  buttplug: { sexual: 0.65 }, cock: { sexual: 0.45 }, cum: { sexual: 0.6 }, deepthroat: { sexual: 0.75 }, dick: { sexual: 0.35, harassment: 0.15 },
  dildo: { sexual: 0.55 }, doggystyle: { sexual: 0.65 }, 'double penetration': { sexual: 0.8 }, ejaculate: { sexual: 0.5 },
  felch: { sexual: 0.8 }, fellatio: { sexual: 0.7 }, 'finger bang': { sexual: 0.75 }, fisting: { sexual: 0.7 }, gangbang: { sexual: 0.8 },
  handjob: { sexual: 0.75 }, hentai: { sexual: 0.55 }, hooker: { sexual: 0.3 }, incest: { sexual: 0.6 }, 'jerk off': { sexual: 0.6 },
  jizz: { sexual: 0.7 }, lubejob: { sexual: 0.75 }, masturbate: { sexual: 0.55 }, orgasm: { sexual: 0.5 }, orgy: { sexual: 0.55 },
  penis: { sexual: 0.3 }, porn: { sexual: 0.6 }, pussy: { sexual: 0.45, harassment: 0.15 }, scat: { sexual: 0.3 }, semen: { sexual: 0.4 },
  tit: { sexual: 0.35 }, vagina: { sexual: 0.3 }, rape: { violence: 0.6, sexual: 0.5 },
  // profanity and insults
  arse: { harassment: 0.1 }, ass: { harassment: 0.1 }, bastard: { harassment: 0.25 }, bitch: { harassment: 0.3 }, bollocks: { harassment: 0.1 },
  cuck: { harassment: 0.25 }, cunt: { harassment: 0.4 }, fuck: { harassment: 0.15 }, piss: { harassment: 0.05 }, prick: { harassment: 0.25 },
  shit: { harassment: 0.1 }, slut: { harassment: 0.35, sexual: 0.3 }, turd: { harassment: 0.1 }, twat: { harassment: 0.3 },
  wank: { harassment: 0.15, sexual: 0.3 }, whore: { harassment: 0.35, sexual: 0.3 },
};

// ---- insults and harassment -------------------------------------------------------

const INSULT_EN = [
  'idiots?', 'stupid', 'morons?', 'losers?', 'dumb', 'dumbass', 'dumbfuck', 'jerk', 'pathetic', 'worthless', 'useless', 'ugly', 'fat', 'scum',
  'trash', 'garbage', 'clown', 'imbecile', 'retard(?:ed)?', 'bitch(?:es)?', 'b[i1*]tch', 'assholes?', 'arseholes?', 'a[s$*]{2}hole', 'cunts?', 'c[u*]nt',
  'twats?', 'pricks?', 'dick(?:head)?s?', 'wankers?', 'bastards?', 'sluts?', 'whores?', 'hoe', 'piece of shit', 'freak', 'creep', 'pig', 'failure',
  'waste of space', 'disgrace', 'fatass', 'fat ass', 'motherfucker', 'fucker', 'fucking idiot',
];
const INSULT_DE = [
  'idiot', 'vollidiot', 'arschloch', 'wichser', 'hurensohn', 'fotze', 'schlampe', 'spast', 'behindert', 'blöd', 'dumm', 'trottel', 'missgeburt',
  'penner', 'hure', 'miststück', 'versager', 'opfer', 'bastard', 'lappen', 'spacko', 'depp', 'dummkopf', 'hässlich', 'fett', 'drecksau',
];
const INSULT_ES = [
  'idiota', 'estúpid[oa]', 'imbécil', 'gilipollas', 'pendej[oa]', 'cabr[oó]n(?:a)?', 'puta', 'zorra', 'tont[oa]', 'subnormal', 'mierda', 'hijo de puta',
  'inútil', 'basura', 'fracasad[oa]', 'fe[oa]', 'gord[oa]', 'perdedor(?:a)?', 'asqueros[oa]', 'retrasad[oa]', 'mongolo', 'payaso',
];
const INSULT_FR = [
  'connard', 'connasse', 'salope', 'pute', 'enculé', 'abruti(?:e)?', 'débile', 'crétin(?:e)?', 'idiot(?:e)?', 'con', 'conne', 'merde',
  'minable', 'déchet', 'moche', 'gros porc', 'grosse vache', 'raté(?:e)?', 'bouffon', 'clown', 'fils de pute', 'tocard',
];
const INSULT_JA = ['バカ', 'ばか', '馬鹿', 'アホ', 'あほ', 'クズ', 'くず', 'カス', 'ブス', 'キモい', 'きもい', 'ゴミ', 'ごみ', 'うざい', 'ウザい', 'デブ', 'ブサイク'];

/** Insults that are insults even when not aimed at anyone in particular; adjectives such as "fat" or "useless" are not. */
const INSULT_NOUNS = [
  'idiots?', 'morons?', 'losers?', 'retard(?:ed)?', 'assholes?', 'arseholes?', 'wankers?', 'motherfucker', 'dumbass', 'dumbfuck',
  'arschloch', 'wichser', 'hurensohn', 'fotze', 'schlampe', 'missgeburt', 'vollidiot', 'idiota', 'imbécil', 'gilipollas', 'pendej[oa]', 'cabr[oó]n(?:a)?',
  'zorra', 'subnormal', 'hijo de puta', 'connard', 'connasse', 'salope', 'enculé', 'abruti(?:e)?', 'crétin(?:e)?', 'débile', 'fils de pute',
];

const SEVERE_INSULT = ['cunts?', 'c[u*]nt', 'whores?', 'sluts?', 'hurensohn', 'fotze', 'hijo de puta', 'puta', 'fils de pute', 'salope', 'pute', 'motherfucker', 'piece of shit'];

const INTENSIFIERS_EN = '(?: (?:such|a|an|so|fucking|fuckin|little|big|stupid|dumb|total|complete|absolute|ugly|fat|worthless|pathetic|useless))*';

export const HARASSMENT_SIGNALS: Signal[] = [
  { label: 'insult_word', category: 'harassment', score: 0.25, pattern: w(...INSULT_NOUNS) },
  { label: 'insult_word_ja', category: 'harassment', score: 0.25, pattern: any('クズ', 'カス', 'ブス', 'キモい', 'ブサイク') },
  {
    label: 'insult_at_you',
    category: 'harassment',
    score: 0.75,
    banter: true,
    pattern: w(
      `(?:you|u|ya|ur|you're|youre|you are|u r|ur a)${INTENSIFIERS_EN} (?:${INSULT_EN.join('|')})`,
      `(?:du|sie)(?: bist)?(?: (?:so|ein|eine|einen|kleiner|kleine|dummer|dumme|verdammter|verdammte|elender|elende|fetter|fette|hässlicher|hässliche))* (?:${INSULT_DE.join('|')})`,
      `(?:eres|sos|tú eres|vos sos|que eres)(?: (?:un|una|tan|muy|pinche|puto|puta|maldit[oa]))* (?:${INSULT_ES.join('|')})`,
      `(?:t'es|tu es|vous êtes|espèce d'?|sale)(?: (?:un|une|vraiment|trop|gros|grosse|petit|petite|sale))* ?(?:${INSULT_FR.join('|')})`,
    ),
  },
  { label: 'insult_at_you_ja', category: 'harassment', score: 0.75, banter: true, pattern: any(`(?:お前|おまえ|てめえ|テメエ|てめー|あんた)(?:は|って|、|の)?.{0,6}(?:${INSULT_JA.join('|')})`) },
  { label: 'severe_insult_at_you', category: 'harassment', score: 0.9, pattern: w(`(?:you|u|ur|you're|you are|du|eres|t'es|tu es|espèce de|sale)${INTENSIFIERS_EN} (?:${SEVERE_INSULT.join('|')})`) },
  {
    label: 'abuse_phrase',
    category: 'harassment',
    score: 0.7,
    banter: true,
    pattern: w(
      'fuck (?:you|u|ya)', 'f[*u]ck (?:you|u)', 'screw you', 'go fuck yourself', 'nobody (?:likes|loves|wants) you', 'no one (?:likes|loves|wants) you',
      'everyone hates you', 'you should (?:die|disappear)', 'i hope you die', 'die in a fire', 'drop dead', 'go to hell',
      'fick dich', 'verpiss dich', 'halt die fresse', 'halt(?:\'s| das) maul', 'niemand mag dich', 'du solltest sterben',
      'vete a la mierda', 'que te jodan', 'jódete', 'muérete', 'nadie te quiere', 'ojalá te mueras',
      'va te faire foutre', 'nique ta mère', 'va crever', 'crève', 'personne ne t\'aime',
    ),
  },
  { label: 'abuse_phrase_ja', category: 'harassment', score: 0.75, banter: true, pattern: any('死ね', 'しね$', '消えろ', '失せろ') },
  { label: 'go_kill_yourself', category: 'harassment', score: 0.9, pattern: w('kill yourself', 'kys', 'go die', 'bring dich um', 'mátate', 'suicide-toi', 'va te suicider', 'tue-toi') },
  { label: 'go_kill_yourself', category: 'violence', score: 0.5, pattern: w('kill yourself', 'kys', 'bring dich um', 'mátate', 'suicide-toi', 'tue-toi') },
  { label: 'rude', category: 'harassment', score: 0.3, banter: true, pattern: w('shut up', 'stfu', 'shut the fuck up', 'fuck off', 'piss off', 'halt die klappe', 'cállate', 'tais-toi', 'ta gueule', 'ferme-la') },
  { label: 'rude_ja', category: 'harassment', score: 0.3, banter: true, pattern: any('黙れ', 'だまれ') },
];

// ---- hate -------------------------------------------------------------------------

const GROUPS = [
  // en
  'jews', 'muslims', 'christians', 'blacks', 'black people', 'whites', 'white people', 'gays', 'gay people', 'lesbians', 'trans people',
  'transgender people', 'immigrants', 'refugees', 'migrants', 'mexicans', 'asians', 'chinese', 'arabs', 'africans', 'women', 'indians',
  'hindus', 'gypsies', 'roma', 'disabled people', 'latinos', 'koreans', 'japanese',
  // de
  'juden', 'muslime', 'moslems', 'christen', 'schwarze', 'schwule', 'lesben', 'ausländer', 'flüchtlinge', 'migranten', 'türken', 'araber',
  'frauen', 'behinderte', 'zigeuner',
  // es
  'judíos', 'musulmanes', 'negros', 'gays', 'gais', 'maricones', 'inmigrantes', 'refugiados', 'moros', 'gitanos', 'mujeres', 'chinos', 'sudacas', 'árabes',
  // fr
  'juifs', 'musulmans', 'noirs', 'arabes', 'homos', 'immigrés', 'réfugiés', 'femmes', 'gitans', 'roms', 'chinois', 'africains',
].join('|');

const DEHUMANIZING = [
  'animals', 'vermin', 'parasites', 'subhuman', 'sub-human', 'cockroaches', 'rats', 'a disease', 'a plague', 'a cancer', 'filth', 'savages', 'not human',
  'tiere', 'ungeziefer', 'parasiten', 'abschaum', 'dreck', 'untermenschen', 'ratten', 'kakerlaken', 'eine seuche', 'keine menschen',
  'animales', 'parásitos', 'basura', 'ratas', 'escoria', 'una plaga', 'cucarachas', 'salvajes', 'no son humanos',
  'des animaux', 'des parasites', 'des rats', 'des cafards', 'des déchets', 'des sous-hommes', 'une plaie', 'des sauvages', 'pas humains',
].join('|');

const SLURS_LOCAL = [
  'wetbacks?', 'spics?', 'gooks?', 'coons?', 'beaners?', 'ragheads?', 'towelheads?', 'sand niggers?', 'pakis?', 'kykes?', 'faggots?',
  'kanaken?', 'kanacken?', 'neger', 'schwuchteln?', 'kameltreiber', 'judensau', 'sudacas?', 'negratas?', 'maric[oó]n(?:es)?', 'panchitos?',
  'bougnoules?', 'youpins?', 'youtres?', 'négros?', 'pédés?', 'bicots?', 'chinetoques?', 'bamboulas?',
];

export const HATE_SIGNALS: Signal[] = [
  { label: 'slur', category: 'hate', score: 0.85, pattern: w(...SLURS_LOCAL) },
  { label: 'slur_mild', category: 'hate', score: 0.5, pattern: w('zigeuner', 'bollera', 'gouine', 'shemale') },
  { label: 'slur_ja', category: 'hate', score: 0.8, pattern: any('チョン', '支那人', 'シナ人', 'ガイジ') },
  {
    label: 'dehumanizing',
    category: 'hate',
    score: 0.9,
    pattern: w(
      `(?:all |the |die |alle |los |las |todos los |les |tous les )?(?:${GROUPS}) (?:are|is|sind|son|sont)(?: (?:just|all|nothing but|nur|alle|todos|solo|tous|que))* (?:${DEHUMANIZING})`,
    ),
  },
  {
    label: 'exterminate',
    category: 'hate',
    score: 0.95,
    pattern: w(
      `(?:kill|exterminate|gas|burn|eradicate|wipe out|get rid of) (?:all )?(?:the |of the )?(?:${GROUPS})`,
      `(?:${GROUPS}) (?:should|must|need to|deserve to) (?:die|be killed|be exterminated|be gassed|burn|not exist|be wiped out)`,
      `(?:alle )?(?:${GROUPS}) (?:vergasen|töten|ausrotten|verbrennen)`, `(?:${GROUPS}) (?:sollten|müssen) (?:sterben|vergast werden|ausgerottet werden)`,
      `(?:hay que|deberían) (?:matar|exterminar|quemar|gasear) a (?:todos )?(?:los |las )?(?:${GROUPS})`, `(?:${GROUPS}) (?:deberían|merecen) morir`,
      `(?:il faut|faut) (?:tuer|exterminer|gazer|brûler) (?:tous )?les (?:${GROUPS})`, `les (?:${GROUPS}) (?:doivent|méritent de) mourir`,
    ),
  },
  {
    label: 'exterminate',
    category: 'violence',
    score: 0.8,
    pattern: w(`(?:kill|exterminate|gas|burn) (?:all )?(?:the )?(?:${GROUPS})`, `(?:hay que|il faut) (?:matar|tuer|exterminer|exterminar) (?:a )?(?:tous |todos )?(?:les |los |las )?(?:${GROUPS})`),
  },
  { label: 'hate_statement', category: 'hate', score: 0.7, pattern: w(`i hate (?:all |the )?(?:${GROUPS})`, `ich hasse (?:alle |die )?(?:${GROUPS})`, `odio a (?:los |las |todos los )?(?:${GROUPS})`, `je (?:déteste|hais) (?:les |tous les )?(?:${GROUPS})`) },
  { label: 'go_back', category: 'hate', score: 0.6, pattern: w('go back to (?:your|ur) (?:own )?country', 'geh zurück in dein land', 'vuelve a tu país', 'rentre dans ton pays', 'sale (?:arabe|juif|noir|bougnoule|négro)') },
];

// ---- self-harm --------------------------------------------------------------------

export const SELF_HARM_SIGNALS: Signal[] = [
  { label: 'mention', category: 'self-harm', score: 0.2, pattern: w('suicid(?:e|al)', 'self-harm', 'selbstmord', 'suizid(?:al)?', 'suicidio', 'suicidarse', 'se suicider') },
  { label: 'mention_ja', category: 'self-harm', score: 0.2, pattern: any('自殺', 'リスカ', '自傷') },
  {
    label: 'ideation',
    category: 'self-harm',
    score: 0.85,
    pattern: w(
      'kill(?:ing)? myself', "(?:wanna|gonna|going to|want to|about to|i'll|might) kms", 'end(?:ing)? my (?:own )?life', 'take my (?:own )?life', '(?:want to|wanna) die(?! (?:my|of|from|laughing))', 'wish i (?:was|were) dead',
      'no reason to (?:live|go on)', 'better off dead', 'better off without me', 'don\'t want to (?:live|be alive|exist) anymore', 'commit suicide', 'i\'m suicidal',
      'mich umbringen', 'mir das leben nehmen', '(?:ich )?will (?:nicht mehr leben|sterben)', 'will nicht mehr leben', 'möchte sterben',
      'quiero morir(?:me)?', 'matarme', 'suicidarme', 'quitarme la vida', 'no quiero vivir',
      'me suicider', 'je veux mourir', 'je vais me tuer', 'en finir avec (?:la|ma) vie', 'je ne veux plus vivre',
    ),
  },
  { label: 'ideation_ja', category: 'self-harm', score: 0.85, pattern: any('死にたい', '消えたい', '自殺したい', '生きていたくない', '生きたくない') },
  {
    label: 'self_injury',
    category: 'self-harm',
    score: 0.75,
    pattern: w('cut(?:ting)? myself', 'hurt(?:ing)? myself', 'burn(?:ing)? myself', 'harm(?:ing)? myself', 'mich ritzen', 'mich verletzen', 'cortarme', 'hacerme daño', 'me couper', 'me scarifier', 'me faire du mal'),
  },
  { label: 'self_injury_ja', category: 'self-harm', score: 0.75, pattern: any('リストカット', '手首を切', '自分を傷つけ') },
  {
    label: 'method',
    category: 'self-harm',
    score: 0.95,
    pattern: w(
      'how (?:to|do i|can i|could i) (?:kill myself|commit suicide|end my life|overdose)', 'painless (?:way|ways) to (?:die|kill myself)', 'how many pills (?:to|would|does it take)',
      'best way to (?:kill myself|commit suicide|die)', 'slit my wrists?', 'hang myself', 'jump off (?:a|the) (?:bridge|building) (?:to die|and die)',
      'wie bringe ich mich um', 'wie kann ich mich umbringen', 'cómo (?:suicidarme|matarme)', 'comment me suicider', 'comment me tuer',
    ),
  },
  { label: 'method_ja', category: 'self-harm', score: 0.95, pattern: any('楽に死ねる方法', '自殺の方法', '死に方を教えて') },
];

/** Talk about suicide that is help, not harm: prevention, hotlines, a film title. */
export const SELF_HARM_SAFE_CONTEXT = w(
  'suicide (?:prevention|hotline|lifeline|awareness|squad)', 'crisis line', 'telefonseelsorge', 'prevención del suicidio', 'prévention du suicide',
  // an accident is not self-harm: "I cut myself while cooking"
  'by accident', 'accidentally', 'while (?:cooking|shaving|chopping|cutting|playing|running|climbing)', 'playing (?:football|soccer|tennis|basketball)', 'aus versehen', 'sin querer', 'sans faire exprès',
);

// ---- violence ---------------------------------------------------------------------

// Not "beat" or "smash" ("I'll beat you at chess"); "shoot" only when no message follows.
const HARM_VERBS = "kill|murder|stab|shoot(?! (?:you|u|him|her|them) (?:a|an|some|my|the|over)(?![\\p{L}]))|strangle|choke|hurt|punch|slap|end|rape";
const TARGET = 'you|u|ya|him|her|them|your (?:family|kids|mom|mother|dad)';

export const VIOLENCE_SIGNALS: Signal[] = [
  { label: 'violent_word', category: 'violence', score: 0.1, pattern: w('kill(?:ed|ing|s)?', 'murder(?:ed|s)?', 'stab(?:bed)?', 'shot', 'guns?', 'blood', 'töten', 'mord', 'matar', 'asesinar', 'tuer', 'meurtre') },
  {
    label: 'threat',
    category: 'violence',
    score: 0.85,
    banter: true,
    pattern: w(
      `(?:i(?:'ll| will| am going to|'m going to|'m gonna| gonna| wanna| want to)|we(?:'ll| will| are going to|'re gonna)) (?:fucking )?(?:${HARM_VERBS}) (?:${TARGET})`,
      `(?:${HARM_VERBS}) (?:${TARGET}) (?:up|tonight|tomorrow|after school|when i see)`,
      "you(?:'re| are) (?:dead meat|gonna die|going to die)", "i know where you live",
      'ich (?:bring|bringe|töte|schlag|schlage|erschieß|erschieße|ersteche) dich(?: um| tot)?', 'ich werde dich (?:umbringen|töten|schlagen|finden)', 'du bist tot',
      'te voy a (?:matar|pegar|apuñalar|disparar|reventar|partir la cara)', 'te mato', 'te vamos a matar', 'estás muert[oa]',
      'je vais te (?:tuer|frapper|buter|défoncer|planter|crever)', 'je te tue', 't\'es mort', 'je vais te retrouver',
    ),
  },
  { label: 'threat_ja', category: 'violence', score: 0.85, banter: true, pattern: any('殺す', 'ころす', 'ぶっ殺', '殺してやる', '刺してやる', 'ぶん殴る') },
  { label: 'beat_up', category: 'violence', score: 0.7, banter: true, pattern: w('beat (?:you|u|him|her|them) up', 'beat the (?:shit|crap|hell) out of', 'kick (?:your|ur) ass', 'punch (?:you|u) in the face', 'te voy a dar una paliza', 'je vais te casser la gueule', 'ich hau dich', 'ich verprügel dich') },
  {
    label: 'mass_violence',
    category: 'violence',
    score: 0.95,
    pattern: w(
      '(?:shoot|blow) up (?:the |my |our |a )?(?:school|church|mosque|synagogue|mall|office|concert|stadium)', '(?:bomb|attack) the (?:school|church|mosque|synagogue|mall|concert|stadium|station)',
      'kill (?:them all|everyone|everybody)', 'mass shooting', 'school shooting', 'amoklauf', 'tiroteo en la escuela', 'fusillade à l\'école',
    ),
  },
];

// ---- illicit ----------------------------------------------------------------------

// Not "coke", "acid", "molly" or "crystal" alone: a coke, citric acid, a friend called Molly.
const HARD_DRUGS = 'cocaine|heroin|meth|crystal meth|methamphetamine|fentanyl|mdma|ecstasy|lsd|crack|ketamine|oxycodone';

export const ILLICIT_SIGNALS: Signal[] = [
  { label: 'drug_word', category: 'illicit', score: 0.1, pattern: w('cocaine', 'heroin', 'meth', 'fentanyl', 'mdma', 'kokain', 'cocaína', 'heroína', 'cocaïne', 'héroïne') },
  { label: 'drug_word_ja', category: 'illicit', score: 0.1, pattern: any('覚醒剤', '覚せい剤', 'シャブ', 'コカイン', '大麻') },
  {
    label: 'buy_drugs',
    category: 'illicit',
    score: 0.85,
    pattern: w(
      `(?:buy|get|score|order|cop|find|sell|selling|dealer for|plug for) (?:some |a gram of |an ounce of )?(?:${HARD_DRUGS})`, `where (?:can|do) (?:i|we|you) (?:buy|get|score) (?:some )?(?:${HARD_DRUGS})`,
      '(?:kokain|koks|heroin|crystal|meth|mdma|ecstasy|speed) (?:kaufen|bestellen|besorgen|verkaufen)', 'wo (?:kann ich|krieg ich|bekomme ich) (?:\\S+ ){0,3}(?:kokain|koks|heroin|crystal|meth|mdma)',
      'comprar (?:cocaína|coca|heroína|meth|metanfetamina|éxtasis|fentanilo|crack)', 'dónde (?:puedo )?(?:comprar|conseguir) (?:cocaína|coca|heroína|metanfetamina|éxtasis)',
      'acheter (?:de la |de l\'|du )?(?:cocaïne|coke|héroïne|meth|ecstasy|mdma|fentanyl|crack)', 'où (?:acheter|trouver) (?:de la |de l\'|du )?(?:cocaïne|coke|héroïne|meth)',
    ),
  },
  { label: 'buy_drugs_ja', category: 'illicit', score: 0.85, pattern: any('(?:覚醒剤|覚せい剤|シャブ|コカイン|大麻|MDMA).{0,6}(?:買|売|手に入)') },
  { label: 'buy_weed', category: 'illicit', score: 0.45, pattern: w('(?:buy|get|score|order) (?:some )?(?:weed|pot|edibles)', 'gras kaufen', 'comprar (?:maría|hierba|marihuana)', 'acheter (?:de la beuh|du shit|de l\'herbe)') },
  {
    label: 'make_weapon_or_drug',
    category: 'illicit',
    score: 0.95,
    pattern: w(
      '(?:make|build|cook|synthesi[sz]e|produce|manufacture|assemble) (?:a |an |some |my own )?(?:bomb|pipe bomb|explosives?|ied|molotov(?: cocktail)?|napalm|meth|crystal meth|methamphetamine|fentanyl|crack|ricin|sarin|nerve agent|ghost gun|silencer|untraceable gun)',
      '(?:meth|bomb|explosive|napalm|ricin) recipe', 'recipe for (?:meth|a bomb|explosives|napalm)',
      '(?:bombe|sprengstoff|molotowcocktail|meth|crystal) (?:bauen|herstellen|basteln|kochen)', 'anleitung (?:für|zum bau|zur herstellung) (?:einer |von )?(?:bombe|sprengstoff|meth)',
      '(?:hacer|fabricar|construir|cocinar|preparar) (?:una |un )?(?:bomba|explosivos?|metanfetamina|meth|cóctel molotov|molotov)', 'receta (?:de|para) (?:meth|metanfetamina|una bomba)',
      '(?:fabriquer|faire|construire|préparer) (?:une |un |de la |des )?(?:bombe|explosifs?|cocktail molotov|meth|méthamphétamine)', 'recette (?:de la |d\'une )?(?:meth|bombe)',
    ),
  },
  { label: 'make_weapon_ja', category: 'illicit', score: 0.95, pattern: any('爆弾の作り方', '爆弾を作', '爆発物の作り方', '覚醒剤の作り方', '覚せい剤の作り方') },
  {
    label: 'fraud_or_intrusion',
    category: 'illicit',
    score: 0.8,
    pattern: w(
      "(?:hack|break) into (?:someone's|somebody's|my ex's|his|her|their|a|an|the) (?:account|phone|email|instagram|facebook|wifi|computer)",
      "steal (?:a car|cars|credit cards?|someone's identity|passwords|an identity)", 'counterfeit (?:money|bills|cash)', 'launder(?:ing)? money', 'money laundering',
      'fake (?:id|passport|ids)', 'hotwire a car', 'phishing (?:kit|page|site|email)', 'credit card (?:dumps|numbers for sale)', 'carding',
      'geld waschen', 'falschgeld', 'blanquear dinero', 'dinero falso', 'blanchir de l\'argent', 'faux billets',
    ),
  },
  { label: 'shoplift', category: 'illicit', score: 0.55, pattern: w('shoplift(?:ing)?', 'how to steal', 'klauen ohne erwischt', 'robar sin que', 'voler sans se faire') },
];

// ---- sexual -----------------------------------------------------------------------

export const SEXUAL_SIGNALS: Signal[] = [
  { label: 'suggestive', category: 'sexual', score: 0.15, pattern: w('sexy', 'naked', 'nude', 'lingerie', 'nackt', 'desnud[oa]s?', 'nue?s?', 'sexe', 'sexo', 'geil') },
  { label: 'sex_word', category: 'sexual', score: 0.25, pattern: w('sex', 'sexual', 'erotic', 'erotik', 'erótico', 'érotique', 'make love', 'onlyfans', 'nsfw') },
  { label: 'sexual_act', category: 'sexual', score: 0.55, pattern: w('have sex with', 'had sex with', 'sexting', 'horny', 'xxx', 'strip(?:ping)? for', 'suck (?:my|your) (?:dick|cock|tits|balls)', 'nudes', "(?:want to|wanna|gonna|i'll|let's|lets) fuck") },
  {
    label: 'explicit_request',
    category: 'sexual',
    score: 0.75,
    pattern: w('send (?:me )?(?:nudes|naked (?:pics|photos|pictures)|pics of your body|a dick pic)', 'see my (?:dick|cock|pussy|tits|boobs)', 'dick pics?', 'nude (?:pics|photos|pictures)', 'naked (?:pics|photos|pictures)', 'sex tape'),
  },
  {
    label: 'explicit_word',
    category: 'sexual',
    score: 0.6,
    pattern: w(
      'ficken', 'fick(?:t|en|te)', 'porno(?:s)?', 'muschi', 'wichsen', 'nacktbilder', 'nacktfotos', 'titten', 'schwanz lutschen', 'blasen lassen',
      'follar', 'follando', 'porno', 'polla', 'mamada', 'tetas', 'fotos desnud[oa]s?', 'chúpamela',
      'baiser avec', 'branler', 'branlette', 'suce-moi', 'photos nues?', 'se masturber',
    ),
  },
  { label: 'explicit_ja', category: 'sexual', score: 0.6, pattern: any('セックス', 'フェラ', '中出し', 'ヌード写真', '裸の写真', 'オナニー', 'エロ動画') },
  { label: 'suggestive_ja', category: 'sexual', score: 0.25, pattern: any('エロ', 'エッチ', 'ヌード') },
];

/** Phrases about sex that are not sexual content: education, biology, marriage law. */
export const SEXUAL_SAFE_CONTEXT = w('sex education', 'sex ed', 'sexual education', 'same-sex', 'sex of the baby', 'opposite sex', 'sex ratio', 'sexualkunde', 'educación sexual', 'éducation sexuelle', 'sexe du bébé', 'sexo del bebé');

// ---- minors -----------------------------------------------------------------------

export const MINOR_TERMS = [
  w(
    'child', 'children', 'kids?', 'minors?', 'underage', 'under-age', 'teens?', 'teenagers?', 'preteens?', 'schoolgirls?', 'schoolboys?', 'little (?:girl|boy)s?',
    'young (?:girl|boy)s?', '(?:1[0-7]|[1-9]) ?(?:yo|y/o|years? old|year-old|yr old|yrs old)', 'daughter', 'niece', 'toddlers?', 'middle school(?:er)?', 'high school(?:er)?',
    'kinder', 'kindes', 'minderjährig\\w*', 'jugendlich\\w*', 'schüler(?:in)?(?:nen)?', 'kleine[sn]? (?:mädchen|jungen?)', '(?:1[0-7]|[1-9])[- ]?jährig\\w*', 'tochter',
    "(?:i'?m|i am|she'?s|he'?s|she is|he is|ich bin|sie ist|er ist|tengo|tiene|j'ai|elle a|il a) (?:1[0-7]|[1-9])(?!\\d| ?(?:min|mins|minutes|hours?|h|km|miles|blocks|stops|euros?|dollars?|%))",
    'niñ[oa]s?', 'menor(?:es)?(?: de edad)?', 'adolescentes?', 'colegialas?', '(?:1[0-7]|[1-9]) años', 'hija',
    'enfants?', 'mineur(?:e)?s?', 'ados?', 'adolescent(?:e)?s?', 'petite fille', 'petit garçon', 'collégien(?:ne)?s?', 'écolières?', '(?:1[0-7]|[1-9]) ans',
  ),
  any('子供', '子ども', 'こども', '児童', '小学生', '中学生', '女子中学生', '未成年', '幼女', '少女', '娘'),
];

/** Terms that are sexual content involving minors by themselves. */
export const SEXUAL_MINORS_TERMS = [
  w('child porn(?:ography)?', 'cp links?', 'lolicon', 'loli', 'shotacon', 'jailbait', 'pedo(?:phile)?s?', 'underage (?:porn|sex|nudes|girls nude)', 'preteen (?:nudes|porn)',
    'kinderporno(?:s|grafie)?', 'pornografía infantil', 'pédopornographie', 'pédo'),
  any('児童ポルノ', 'ロリコン', '幼女(?:の)?(?:裸|エロ)'),
];

/** Nakedness next to a minor term: always sexual content involving minors. */
export const NAKED_MINOR = w(
  `(?:naked|nude|undressed|nackt|desnud[oa]s?|nue?s?) (?:\\S+ ){0,4}(?:child|children|kids?|minors?|teens?|girls? (?:aged )?(?:1[0-7]|[1-9])|boys? (?:aged )?(?:1[0-7]|[1-9])|(?:1[0-7]|[1-9]) ?(?:yo|years? old|year-old)|kinder|niñ[oa]s?|enfants?)`,
  `(?:child|children|kids?|minors?|teens?|(?:1[0-7]|[1-9]) ?(?:yo|years? old|year-old)|kinder|niñ[oa]s?|enfants?) (?:\\S+ ){0,4}(?:naked|nude|undressed|nackt|desnud[oa]s?|nue?s?)`,
);

/** Laughter and "jk" soften threats and insults: "I'll kill you lol". */
export const BANTER = /(?<![\p{L}\p{N}])(?:lol|lmao|haha\w*|hehe\w*|jk|jaja\w*|mdr|ptdr|xd)(?![\p{L}\p{N}])|[\u{1F602}\u{1F923}\u{1F606}\u{1F61C}]|笑|(?:w){2,}$/u;
