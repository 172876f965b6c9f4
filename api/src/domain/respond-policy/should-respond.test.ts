import type { AiMode } from '../ai-mode';
import { RecentMessage, RespondReason, shouldRespond } from './should-respond';

const options = {
  aiName: 'AI',
  memberNames: ['Tom Baker', 'tom', 'Alice Martin', 'alice_m', 'Kenji Sato', 'kenji', 'María', 'maria', 'Lukas', 'lukas', 'Chloé', 'chloe'],
};

const humansTalking: RecentMessage[] = [
  { kind: 'USER', authorId: 'u1', body: 'so excited for the trip!', mentionsAi: false },
  { kind: 'USER', authorId: 'u2', body: 'same here', mentionsAi: false },
];
const aiJustAnswered: RecentMessage[] = [
  { kind: 'USER', authorId: 'u1', body: '@AI what are the best things to do in Kyoto?', mentionsAi: true },
  { kind: 'AI', authorId: null, body: 'Fushimi Inari early in the morning, Arashiyama, and Nishiki Market.', mentionsAi: false },
];
const aiAnsweredThenSomeoneJoined: RecentMessage[] = [...aiJustAnswered, { kind: 'SYSTEM', authorId: null, body: 'Kenji joined', mentionsAi: false }];

function message(body: string, extra: { mentionsAi?: boolean; mentionUsernames?: string[] } = {}) {
  return { body, authorId: 'u1', mentionsAi: extra.mentionsAi ?? false, mentionUsernames: extra.mentionUsernames ?? [] };
}

type Row = [body: string, respond: boolean, reason: RespondReason];

describe('shouldRespond in AUTO mode, after humans have been talking', () => {
  const rows: Row[] = [
    // Questions put to the group that the AI can help with.
    ['what time does the museum open?', true, 'question_for_group'],
    ['does anyone know a good ramen place near Shibuya?', true, 'question_for_group'],
    ["What's the best way to get from Narita to Shinjuku with luggage?", true, 'question_for_group'],
    ['How much is 15% tip on ¥12,400?', true, 'question_for_group'],
    ['is the Louvre open on Mondays?', true, 'question_for_group'],
    ['Any recommendations for a rooftop bar in Lisbon', true, 'question_for_group'],
    ['how do you say "where is the station" in Korean?', true, 'question_for_group'],
    ['which is better for 3 days, Kyoto or Osaka?', true, 'question_for_group'],
    ['hey everyone, does anyone know if we need a visa for Taiwan?', true, 'question_for_group'],
    ['lol does anyone know how to fix a flat bike tire', true, 'question_for_group'],
    ['should we take the train or the bus to Hakone?', true, 'question_for_group'],
    ['what should we do in Kyoto on a rainy day?', true, 'question_for_group'],
    ['1250*0.85?', true, 'question_for_group'],
    ['Weiß jemand, wann der letzte Zug nach München fährt?', true, 'question_for_group'],
    ['Wie komme ich vom Flughafen am besten in die Innenstadt?', true, 'question_for_group'],
    ['Was kostet ein Deutschlandticket?', true, 'question_for_group'],
    ['¿Alguien sabe a qué hora cierra el Prado?', true, 'question_for_group'],
    ['¿Cuál es la mejor playa cerca de Valencia?', true, 'question_for_group'],
    ['¿Cómo se dice "gracias" en japonés?', true, 'question_for_group'],
    ["Quelqu'un sait où acheter un pass Navigo ?", true, 'question_for_group'],
    ['Comment aller de la gare de Lyon à Montmartre ?', true, 'question_for_group'],
    ['美術館は何時に開きますか？', true, 'question_for_group'],
    ['京都でおすすめのラーメン屋を知ってる人いる?', true, 'question_for_group'],
    ['東京から大阪まで新幹線でどのくらいかかる？', true, 'question_for_group'],
    // Requests for help without a question mark.
    ['translate "see you tomorrow" into Japanese please', true, 'help_request'],
    ["I'm looking for a good vegetarian restaurant in Seoul", true, 'help_request'],
    ['Übersetz mal "Guten Appetit" ins Französische', true, 'help_request'],
    // Small talk, reactions, jokes, emoji.
    ['lol', false, 'small_talk'],
    ['ok thanks!', false, 'small_talk'],
    ['😂😂😂', false, 'small_talk'],
    ['good morning everyone ☀️', false, 'small_talk'],
    ['hahaha nice one', false, 'small_talk'],
    ['how are you guys?', false, 'small_talk'],
    ['Danke dir, super!', false, 'small_talk'],
    ['jajaja vale', false, 'small_talk'],
    ['mdr trop bien', false, 'small_talk'],
    ['ありがとう！笑', false, 'small_talk'],
    ['おはようございます', false, 'small_talk'],
    ['really?', false, 'small_talk'],
    ['who ate all the cookies lol?', false, 'small_talk'],
    ['Wie geht’s euch?', false, 'small_talk'],
    // A person addressed by name or @mention.
    ['Tom, are you coming?', false, 'person_addressed'],
    ['are you still at the hotel, Alice?', false, 'person_addressed'],
    ['hey kenji what time does your flight land?', false, 'person_addressed'],
    ['María, ¿sabes dónde está el restaurante?', false, 'person_addressed'],
    ['Chloé tu viens ce soir ?', false, 'person_addressed'],
    ['ケンジさん、何時に着く？', false, 'person_addressed'],
    // Personal or social questions among the humans.
    ['are you coming tonight?', false, 'social_question'],
    ["who's bringing drinks?", false, 'social_question'],
    ['anyone up for karaoke later?', false, 'social_question'],
    ['shall we meet at 7 at the station?', false, 'social_question'],
    ['did you book the hotel yet?', false, 'social_question'],
    ['is Lukas still coming?', false, 'social_question'],
    ['Kommt ihr heute Abend mit?', false, 'social_question'],
    ['Wer bringt die Getränke mit?', false, 'social_question'],
    ['¿Vienes a la cena del viernes?', false, 'social_question'],
    ['¿Quién trae el pastel?', false, 'social_question'],
    ['tu viens à la soirée samedi ?', false, 'social_question'],
    ['Qui ramène les boissons ?', false, 'social_question'],
    ['今夜来る？', false, 'social_question'],
    ['明日一緒にランチ行かない？', false, 'social_question'],
    // Statements that ask nothing.
    ['I just landed, heading to the hotel now', false, 'not_a_question'],
    ['what a day!', false, 'not_a_question'],
    ['Ich bin in zehn Minuten da.', false, 'not_a_question'],
    ['Llego tarde, lo siento mucho, el metro está parado', false, 'not_a_question'],
    ['Je suis déjà au restaurant, table au fond', false, 'not_a_question'],
  ];

  it('has a table of at least 40 realistic messages', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  it.each(rows)('%s → respond=%s (%s)', (body, respond, reason) => {
    expect(shouldRespond(message(body), humansTalking, 'AUTO', options)).toEqual({ respond, reason });
  });
});

describe('shouldRespond right after the AI has spoken', () => {
  const rows: Row[] = [
    ['thanks!', false, 'small_talk'],
    ['what time does the museum open?', false, 'ai_just_spoke'],
    ['that sounds amazing, I want to go to Nishiki', false, 'ai_just_spoke'],
    ['and what about Osaka?', true, 'follow_up'],
    ['can you also compare the prices of the JR pass?', true, 'follow_up'],
    ['Und was ist mit Nara?', true, 'follow_up'],
    ['¿Y para Nara?', true, 'follow_up'],
    ['Et pour Nara, tu peux me dire combien de temps il faut ?', true, 'follow_up'],
    ['じゃあ大阪はどう？', true, 'follow_up'],
    ['and are you coming with us, Tom?', false, 'person_addressed'],
    ['and who is coming on Friday?', false, 'ai_just_spoke'],
    ['@AI and how long does it take by train?', true, 'mentioned'],
  ];

  it.each(rows)('%s → respond=%s (%s)', (body, respond, reason) => {
    const mentionsAi = body.toLowerCase().includes('@ai');
    expect(shouldRespond(message(body, { mentionsAi }), aiJustAnswered, 'AUTO', options)).toEqual({ respond, reason });
  });

  it('looks past system notices to see who spoke last', () => {
    expect(shouldRespond(message('what time does the museum open?'), aiAnsweredThenSomeoneJoined, 'AUTO', options)).toEqual({
      respond: false,
      reason: 'ai_just_spoke',
    });
  });

  it('answers a fresh question again once a human has spoken in between', () => {
    const later = [...aiJustAnswered, { kind: 'USER' as const, authorId: 'u2', body: 'nice, thanks', mentionsAi: false }];
    expect(shouldRespond(message('what time does the museum open?'), later, 'AUTO', options).respond).toBe(true);
  });
});

describe('shouldRespond and the group mode', () => {
  const cases: [AiMode, string, boolean, boolean, RespondReason][] = [
    ['OFF', '@AI what time does the museum open?', true, false, 'mode_off'],
    ['OFF', 'does anyone know a good sushi place?', false, false, 'mode_off'],
    ['MENTIONS', '@AI what time does the museum open?', true, true, 'mentioned'],
    ['MENTIONS', 'does anyone know a good sushi place?', false, false, 'not_mentioned'],
    ['MENTIONS', 'AI, what time does the museum open?', false, true, 'mentioned'],
    ['AUTO', '@AI lol', true, true, 'mentioned'],
    ['AUTO', 'hey AI can you settle this: is a tomato a fruit?', false, true, 'mentioned'],
    ['AUTO', 'AIさん、おすすめは？', false, true, 'mentioned'],
    ['AUTO', 'are you there AI?', false, true, 'mentioned'],
  ];

  it.each(cases)('%s: %s → %s', (mode, body, mentionsAi, respond, reason) => {
    expect(shouldRespond(message(body, { mentionsAi }), humansTalking, mode, options)).toEqual({ respond, reason });
  });

  it('answers a mention even right after it spoke', () => {
    expect(shouldRespond(message('@AI thanks!', { mentionsAi: true }), aiJustAnswered, 'AUTO', options)).toEqual({ respond: true, reason: 'mentioned' });
  });

  it('stays quiet when a member is @mentioned, even with a question it could answer', () => {
    const m = message('@tom what time does the museum open?', { mentionUsernames: ['tom'] });
    expect(shouldRespond(m, humansTalking, 'AUTO', options)).toEqual({ respond: false, reason: 'person_addressed' });
  });

  it('honours a custom AI name and does not treat talk about it as address', () => {
    const sage = { aiName: 'Sage', memberNames: options.memberNames };
    expect(shouldRespond(message('Sage, what time is it in Tokyo?'), humansTalking, 'MENTIONS', sage).reason).toBe('mentioned');
    expect(shouldRespond(message('what do you think about AI?'), humansTalking, 'MENTIONS', options).reason).toBe('not_mentioned');
  });

  it('is deterministic', () => {
    const m = message('does anyone know a good ramen place near Shibuya?');
    const first = shouldRespond(m, humansTalking, 'AUTO', options);
    for (let i = 0; i < 5; i += 1) expect(shouldRespond(m, humansTalking, 'AUTO', options)).toEqual(first);
  });

  it('does not treat a question mark inside a link as a question', () => {
    expect(shouldRespond(message('photos here https://example.com/album?id=42'), humansTalking, 'AUTO', options)).toEqual({
      respond: false,
      reason: 'not_a_question',
    });
  });
});
