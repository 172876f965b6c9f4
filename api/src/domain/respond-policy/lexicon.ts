/**
 * Word lists and patterns behind `shouldRespond`, in English, German, Spanish, French,
 * Japanese and a little Korean and Chinese (the pilot regions). Patterns run on text
 * that `normalizeChat` has prepared: NFKC (so '？' is '?'), lower case, straight quotes.
 */

// JavaScript's \b only knows ASCII letters; these boundaries also hold around é, ü, ñ.
const LETTER = '\\p{L}\\p{N}';

/** Alternatives that must stand as whole words. */
export function words(...alternatives: string[]): RegExp {
  return new RegExp(`(?<![${LETTER}])(?:${alternatives.join('|')})(?![${LETTER}])`, 'u');
}

/** Alternatives matched anywhere: for scripts written without spaces. */
export function anywhere(...alternatives: string[]): RegExp {
  return new RegExp(`(?:${alternatives.join('|')})`, 'u');
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function normalizeChat(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/https?:\/\/\S+/gi, ' ') // a '?' inside a link is not a question
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** Whole tokens that, alone or together, make a message small talk or a reaction. */
export const SMALL_TALK_TOKENS = new Set(
  [
    // en
    'hi hello hey heya hiya yo sup gm gn morning evening afternoon night good nite bye byebye cya see you later soon ttyl',
    'ok okay okey k kk sure yes yeah yep yup ya yea no nope nah nice cool great awesome amazing perfect wow omg oh ah aw aww oops',
    'thanks thank thx ty tysm np welcome congrats congratulations sorry love it same agreed true right exactly totally indeed',
    'all everyone everybody guys folks team fam friends y\'all and too so much very really me lol lmao lmfao rofl xd haha hehe',
    'what huh hmm hm mhm uh um yay woohoo sweet neat lovely fine alright gotcha noted cheers welp sounds fun happy birthday',
    // de
    'hallo moin servus tschüss tschüs ciao danke dankeschön bitte super toll geil ja nein jo genau klar stimmt gut guten gute',
    'nacht morgen abend tag alles na ach echt krass mega bis dann später gleich gerne gern schön prima oha jawohl herzlichen glückwunsch',
    // es
    'hola buenas buenos días dias tardes noches gracias muchas vale sí si claro genial guay perfecto bueno adiós adios chao hasta',
    'luego mañana bien de nada igualmente feliz vamos venga dale chido buenísimo qué que bonito jaja jajaja jeje felicidades',
    // fr
    'salut bonjour bonsoir coucou merci beaucoup oui non ouais d\'accord génial top mdr ptdr bonne nuit journée soirée à a plus',
    'tard bientôt bisous trop parfait grave carrément rien exactement vrai c\'est ça marche bravo félicitations',
    // fillers that ride along with the above: "nice one", "danke dir", "that's hilarious"
    'one dir euch dich that that\'s it\'s this funny hilarious ikr idk brb gg lit dope damn yess nooo',
  ]
    .join(' ')
    .split(' '),
);

/** Small talk in scripts without spaces; a message made only of these is small talk. */
export const SMALL_TALK_CJK = [
  'おはようございます', 'おはよう', 'こんにちは', 'こんばんは', 'おやすみなさい', 'おやすみ', 'ありがとうございます', 'ありがとう',
  'どうも', 'よろしくお願いします', 'よろしく', 'はい', 'いいえ', 'うん', 'ううん', '了解です', '了解', 'りょうかい', 'なるほど',
  'すごい', 'いいね', 'おつかれさまです', 'お疲れ様です', 'おつかれ', 'お疲れ', 'またね', 'じゃあね', 'さようなら', 'ほんと',
  '本当', 'まじ', 'マジ', 'やった', '楽しみ', '最高', 'おめでとう', 'ございます', 'です', 'ね', 'よ', 'わ', '笑', '草',
  '안녕하세요', '안녕', '고마워', '감사합니다', '네', '응', '좋아', '你好', '谢谢', '謝謝', '好的', '好',
];

/** Laughter spelt many ways: haha, jajaja, hehe, lool, mdr, ptdr, www, xd, kkk, ㅋㅋ, 哈哈. */
export const LAUGHTER = /^(?:(?:h+a+)+h*|(?:h+e+)+h*|(?:j+a+)+j*|(?:j+e+)+|l+o+l+|l+m+a+o+|w{2,}|x+d+|m+d+r+|p+t+d+r+|k{3,}|ㅋ+|ㅎ+|(?:哈)+|(?:呵)+)$/u;

/** Greetings phrased as questions: "how are you?", "wie geht's?", "¿qué tal?", "ça va ?", "元気？". */
export const GREETING_QUESTION = new RegExp(
  `^(?:(?:hey|hi|hello|hallo|hola|salut|coucou|yo) )?(?:was (?:ist )?los|was geht(?: ab)?|how are (?:you|u|y'all|ya)(?: all| guys| doing)?|how(?:'s| is) it going|what'?s up|wh?at'?s good|wassup|how you doing|wie geht'?s(?: euch| dir)?|wie geht es (?:dir|euch)|alles (?:gut|klar)|qué tal(?: estás| estáis)?|cómo (?:estás|están|estáis|va)|ça va|comment ça va|comment vas-tu|tu vas bien|vous allez bien|お?元気(?:ですか)?|調子どう)(?: (?:everyone|all|guys|folks|team|leute|chicos|amigos|tout le monde|les gars))?[?!. ]*$`,
  'u',
);

/** Exclamations that start like questions: "what a day!", "wie schön!", "¡qué bonito!". */
export const EXCLAMATION = words(
  'what an?',
  'how (?:nice|cool|sweet|great|lovely|fun|awesome|cute|sad|funny)',
  'wie (?:schön|toll|cool|süß|lustig|traurig)',
  'was für ein(?:e|en)?',
  'qué (?:bonito|bonita|bien|guay|rico|rica|lindo|linda|pena|suerte|divertido)',
  'quel(?:le)? (?:bonne|belle|beau|chance|dommage|plaisir)',
);

/** Words that open a question when no '?' was typed. */
export const INTERROGATIVE_START = new RegExp(
  `^(?:¿|(?:any|what|what's|whats|how|where|when|why|who|who's|which|is|are|does|do|did|can|could|should|would|will|anyone|anybody|was|wie|wo|wann|warum|wieso|weshalb|wer|welche[rsnm]?|weiß|kennt|qué|que|cómo|como|dónde|donde|cuándo|cuando|por qué|quién|quien|cuál|cual|cuánto|cuanto|alguien|quoi|comment|où|quand|pourquoi|qui|quel|quelle|quels|quelles|combien|est-ce que|quelqu'un)(?![${LETTER}]))`,
  'u',
);

/** Japanese, Korean and Chinese question markers, which need no '?'. */
export const CJK_QUESTION = anywhere('何', 'なに', 'なん', 'どう', 'どこ', 'いつ', '誰', 'だれ', 'なぜ', 'どれ', 'どっち', 'いくら', 'ですか$', 'ますか$', 'でしょうか', 'かな$', 'の$', '吗', '嗎', '什么', '怎么', '哪', '뭐', '어디', '언제', '어떻게', '까$');

/**
 * Questions the AI can help with: facts, planning, recommendations, comparisons, how-to,
 * translation, calculations, "does anyone know…", "what's the best…".
 */
export const INFO_REQUEST = [
  words(
    // en
    'does (?:anyone|anybody|somebody|someone) know', '(?:anyone|anybody|somebody|someone) knows?', 'do (?:you|u|you guys|y\'all|we) know',
    '(?:can|could|would) (?:you|u|someone|somebody|anyone|anybody) (?:recommend|suggest|explain|tell me|tell us|translate|calculate|find|look up|check|compare|summarize)',
    'any (?:recommendations?|suggestions?|tips|ideas|advice)', 'recommend(?:ation)?s?', 'what(?:\'s| is| are) the (?:best|fastest|cheapest|easiest|quickest|difference|capital|population|weather)',
    'which (?:is|one is|are) (?:better|best|cheaper|faster)', 'best way', 'how (?:do|can|should|would) (?:i|we|you|one)(?! feel)', 'how to', 'how (?:much|many|long|far|old|big|tall|often)',
    'what time (?:does|do|is)', 'when (?:does|do|is|was|did) the', 'what does .+ mean', 'translat(?:e|ion)', 'difference between', 'compare', 'vs\\.?', 'versus',
    'is it (?:safe|worth|possible|open|legal|true)', 'where (?:can|should|do) (?:i|we|you) (?:buy|get|find|eat|stay|park)', 'what (?:is|are|was|were) (?:the|a|an)', 'who (?:was|invented|wrote|won|discovered|directed|painted)',
    'why (?:is|does|do|are) (?:the|a|an|it|there)', 'convert', 'calculate', 'how do you say', 'what(?:\'s| is) \\d', '\\d+(?:[.,]\\d+)? ?(?:[-+*/x×÷^]|plus|minus|times|divided by) ?\\d+',
    // de
    'weiß (?:jemand|einer|wer)', 'kennt (?:jemand|einer|wer)', 'kann (?:mir )?(?:jemand|einer) (?:sagen|erklären|empfehlen|helfen)', 'hat (?:jemand|wer) (?:eine |einen )?(?:idee|tipp|empfehlung)',
    'kannst du (?:mir |uns )?(?:sagen|erklären|empfehlen|übersetzen|ausrechnen)', 'wie (?:viel|viele|lange|weit|spät|alt|komme|kommt man|macht man|funktioniert|sagt man)',
    'was (?:ist|sind|bedeutet|heißt|kostet|kosten)', 'wann (?:öffnet|schließt|fährt|beginnt|startet|ist der|ist die|ist das)', 'wo (?:gibt es|gibt\'s|finde ich|kann man|bekommt man)',
    'welche[rsn]? (?:ist|sind) (?:besser|am besten|die beste|der beste|das beste)', 'empfehl\\w*', 'übersetz\\w*', 'vergleich\\w*', 'unterschied', 'rechne',
    // es
    'alguien sabe', '(?:sabéis|sabes) (?:si|dónde|cuándo|cómo|qué|cuánto)', 'alguien conoce', '(?:me|nos) (?:puedes|podéis|podrías) (?:recomendar|decir|explicar)', 'recomienda\\w*', 'recomendaci\\w+',
    'cuál es (?:el|la) mejor', 'cómo (?:se|puedo|podemos|llego|llegamos|hago)', 'cuánt[oa]s?', 'qué significa', 'cómo se dice', 'a qué hora', 'dónde (?:puedo|podemos|hay|queda|se puede)',
    'traduc\\w*', 'diferencia entre', 'compar\\w*', 'qué es', 'quién (?:fue|inventó|escribió|ganó)',
    // fr
    'quelqu\'un (?:sait|connaît|connait|a une idée)', 'vous savez', 'tu sais (?:si|où|comment|quand|combien|quel)', 'recommand\\w*', 'conseill\\w*', 'quel(?:le)? est (?:le|la) meilleur(?:e)?',
    'comment (?:faire|on|je|aller|dit-on|ça marche)', 'combien', 'ça veut dire quoi', 'que veut dire', 'à quelle heure', 'où (?:est|se trouve|acheter|peut-on|trouver|manger)',
    'tradu\\w*', 'différence entre', 'compar\\w*', 'qu\'est-ce que c\'est', 'c\'est quoi', 'qui a (?:inventé|écrit|gagné)',
  ),
  anywhere('知ってる人', '知っている人', '誰か知って', '教えて', 'おすすめ', 'オススメ', 'どうやって', 'どうすれば', 'いくら', '何時', 'どこで', 'どっちがいい', 'どれがいい', '比較', '翻訳', '意味', 'とは', '違い', '計算', '추천', '알려', '推荐', '怎么'),
];

/** Imperative requests with no question mark: "translate this…", "I'm looking for a good…". */
export const HELP_REQUEST = [
  words(
    'translate', 'calculate', 'convert', 'explain', 'summari[sz]e', 'recommend', 'suggest', 'tell (?:me|us)', 'give (?:me|us)', 'help (?:me|us) (?:with|understand|figure|find|plan|choose|decide|pick)',
    'need (?:help|advice|a recommendation|recommendations|ideas) (?:with|for|on)', 'looking for (?:a|an|some) (?:good|nice|cheap|decent|great)', 'i wonder', 'wondering (?:if|whether|what|how|where|when)',
    'übersetz\\w*', 'erklär\\w*', 'rechne', 'empfiehl', 'ich suche (?:ein|eine|einen) (?:gute|guten|gutes|günstige|günstigen|günstiges)', 'ayúda\\w*', 'traduce', 'traducid', 'explica', 'calcula', 'recomiénda\\w*',
    'busco (?:un|una) (?:buen|buena|barato|barata)', 'tradui[st]', 'explique', 'calcule', 'aide-(?:moi|nous)', 'je cherche (?:un|une) (?:bon|bonne)', 'je me demande',
  ),
  anywhere('翻訳して', '計算して', '説明して', '教えて', '探して', '調べて', '알려줘', '번역해', '帮我', '請幫我'),
];

/**
 * Questions among the humans about themselves: plans, whereabouts, who brings what. The
 * AI cannot answer them. `{names}` is replaced with the group members' names.
 */
export const SOCIAL_QUESTION_SOURCES = [
  `(?:are|r|will|would|can|could|did|do|have|were|was|is|am) (?:you|u|ya|y'all|you guys|we|they|he|she|anyone|anybody|everyone|everybody|someone|somebody|i{names})(?! (?:know|recommend|suggest|need to know))`,
  `(?:you|u|y'all) (?:coming|in|free|there|home|up|ok|okay|alright|good|around|awake|ready|still|guys|back|here|going|bringing|joining)`,
  `who(?:'s| is| are| will|'ll)? (?:bringing|bring|coming|come|joining|join|driving|drive|paying|pay|going|go|getting|picking|pick|cooking|cook|hosting|host|in|up|down|free|around|else|wants|can|could|has|ate|took)`,
  `(?:anyone|anybody|someone|somebody) (?:up for|down for|coming|free|around|wanna|want to|joining|in for|going|awake|home)`,
  `shall we|should we (?:meet|leave|start|order|grab|head|call)`,
  `wanna|let'?s`,
  `how (?:was|were) (?:your|the) (?:day|weekend|trip|date|party|night|holiday|vacation|flight|exam|interview|game)`,
  `what are (?:you|u|we|y'all|you guys) (?:doing|up to|having|wearing|bringing|eating)`,
  // de
  `(?:kommst|bist|hast|kannst|willst|gehst|bringst|machst|fährst|magst|warst|wirst|holst|isst) du(?! (?:mir|uns) (?:sagen|erklären|empfehlen))`,
  `(?:kommt|seid|habt|könnt|wollt|geht|bringt|macht|esst) ihr`,
  `wer (?:bringt|kommt|hat lust|will|ist dabei|fährt|holt|zahlt|kocht|macht mit|hat)`,
  `(?:treffen|gehen|sehen|machen|wollen|sollen|essen) wir`, `lust auf`,
  // es
  `vienes|venís|vendrás|vas a venir|vais a venir|estás|estáis|tienes ganas|te apuntas|os apuntáis|puedes venir|quedamos|nos vemos|traes|traéis|llegas|llegáis|sales|salís`,
  `quién (?:trae|viene|va|lleva|conduce|paga|se apunta|cocina|tiene|se comió)`,
  // fr
  `(?:tu|vous|on) (?:viens|venez|vient|es|êtes|as|avez|fais|faites|veux|voulez|peux venir|pouvez venir|sors|sortez|arrives|arrivez|ramènes|apportes|se retrouve|se voit|y va|part|mange|manges)`,
  `t'es|t'as|(?:es|êtes|viens|venez|as|avez)-(?:tu|vous)`,
  `qui (?:apporte|ramène|vient|viendra|conduit|paie|paye|est partant|est chaud|cuisine|a mangé)`,
];

/** The same for Japanese, Korean and Chinese. */
export const SOCIAL_QUESTION_CJK = anywhere(
  '(?:来る|来れる|来られる|行く|行ける|いる|着いた|起きてる|空いてる|暇|大丈夫|元気|できる)[?]?$', '誰が(?:持って|来|払|運転|買)', '一緒に',
  '(?:行か|食べ|し|飲ま|会わ|遊ば|見)ない[?]?$', '今どこ', 'どこにいる', '何してる', 'どうする', '오늘 와', '올 거야', '你来', '你在哪',
);

/** Openers that make a message a follow-up to what the AI just said. */
export const FOLLOW_UP_OPENER = new RegExp(
  `^(?:and|also|what about|how about|and what about|what if|but what about|ok so|okay so|so what about|then|und|und was ist mit|was ist mit|und wie|und wo|und wann|also|y|y qué tal|y si|y para|y en|qué tal|entonces|et|et pour|et si|et à|et en|alors|sinon|그럼|그리고)(?![${LETTER}])|^(?:じゃあ|じゃ|それと|あと|では|なら|それ|その|那么|那)`,
  'u',
);

/** A request aimed at the one being talked to: after the AI spoke, that is the AI. */
export const SECOND_PERSON_REQUEST = [
  words(
    '(?:can|could|would|will) (?:you|u) (?:also |please |maybe )?(?:tell|explain|check|compare|list|give|show|recommend|suggest|translate|calculate|find|make|plan|add|include|do|look|say|write)',
    'please (?:tell|explain|check|compare|list|give|show|recommend|suggest|translate|calculate|find|make|add|include)',
    '(?:kannst|könntest) du (?:mir |uns )?(?:auch |noch )?(?:sagen|erklären|vergleichen|empfehlen|übersetzen|ausrechnen|auflisten|zeigen|schreiben|planen)',
    '(?:puedes|podrías) (?:también )?(?:decir|decirme|decirnos|explicar|explicarme|comparar|recomendar|recomendarnos|traducir|calcular|buscar)',
    '(?:(?:peux|pourrais)-tu|tu (?:peux|pourrais)|pouvez-vous) (?:aussi )?(?:me |nous )?(?:dire|expliquer|comparer|recommander|conseiller|traduire|calculer|lister|donner)',
  ),
  anywhere('教えて', 'ください', 'お願い', '해줘', '请'),
];

/** A Japanese name with an honorific opening the message: "ケンジさん、…". */
export const HONORIFIC_OPENING = /^[^\s、,!?]{1,12}(?:さん|くん|君|ちゃん|様|先輩)[、,!\s]/u;

/** Words that open a direct address: "hey Tom", "ok Sage". */
export const VOCATIVE_GREETING = '(?:hey|hi|hello|yo|ok|okay|so|and|oh|hallo|hey du|hola|oye|salut|dis|coucou|ねえ|ねぇ)';

/** What follows a name said without a comma when it opens a question: "Tom are you…". */
export const AFTER_NAME_WITHOUT_COMMA = '(?:are|r|you|u|do|did|can|could|will|would|have|is|where|when|what|how|kommst|bist|hast|kannst|vienes|tienes|puedes|tu|t\'es|est-ce|please|pls)';

/** Honorifics that follow a name: "トムさん", "민수 씨". */
export const HONORIFIC_AFTER = '(?:さん|くん|君|ちゃん|様|氏|先輩| ?씨|님)';

/** Second-person words: a name at the very end counts as address only alongside one. */
export const SECOND_PERSON = words('you', 'u', 'your', 'du', 'dir', 'dich', 'ihr', 'euch', 'tú', 'tu', 'te', 'vienes', 'vous', 'toi');
