import { MAX_MEMORY_CHARS, extractRememberRequest } from './remember';

describe('extractRememberRequest', () => {
  it.each([
    ['remember that I am vegetarian', 'I am vegetarian'],
    ['Remember: my sister’s birthday is on March 3rd.', 'my sister\'s birthday is on March 3rd'],
    ['please remember I prefer window seats', 'I prefer window seats'],
    ['Oh and please remember that my daughter is allergic to peanuts!', 'my daughter is allergic to peanuts'],
    ['Can you remember that I work night shifts?', 'I work night shifts'],
    ["don't forget that we're moving to Osaka in June", "we're moving to Osaka in June"],
    ['keep in mind that I hate cilantro', 'I hate cilantro'],
    ['@AI remember that my flight is JL 42', 'my flight is JL 42'],
    ['remember that "I\'m Sam, not Samuel"', "I'm Sam, not Samuel"],
    ['Merk dir, dass ich kein Fleisch esse.', 'ich kein Fleisch esse'],
    ['Bitte merke dir: mein Lieblingsverein ist der FC St. Pauli', 'mein Lieblingsverein ist der FC St. Pauli'],
    ['Vergiss nicht, dass ich montags Yoga habe', 'ich montags Yoga habe'],
    ['Recuerda que soy alérgica al marisco', 'soy alérgica al marisco'],
    ['Por favor, recuerda que trabajo desde casa los viernes.', 'trabajo desde casa los viernes'],
    ['Acuérdate de que mi hijo se llama Mateo', 'mi hijo se llama Mateo'],
    ["Souviens-toi que je suis végétarienne", 'je suis végétarienne'],
    ["Rappelle-toi qu'on part en vacances le 12 juillet", "on part en vacances le 12 juillet"],
    ["N'oublie pas que mon chat s'appelle Minou.", "mon chat s'appelle Minou"],
    ['私はベジタリアンだと覚えておいて', '私はベジタリアンだ'],
    ['娘がピーナッツアレルギーであることを覚えておいてください。', '娘がピーナッツアレルギーである'],
    ['覚えておいて：毎週金曜はテニス', '毎週金曜はテニス'],
    ['记住：我不吃辣', '我不吃辣'],
    // The request's own sentence only: what follows is for the reply.
    ["Remember that I'm vegetarian. Any veggie ramen?", "I'm vegetarian"],
    ['Please remember that I live in Osaka! What is good near Namba?', 'I live in Osaka'],
    ['remember that my doctor is Dr. Tanaka. Is he open on Sundays?', 'my doctor is Dr. Tanaka'],
    ['覚えておいて：毎週金曜はテニス。明日の天気は？', '毎週金曜はテニス'],
  ])('%s → %s', (text, fact) => {
    expect(extractRememberRequest(text)).toBe(fact);
  });

  it.each([
    'what should we do in Kyoto?',
    'Do you remember that restaurant we went to?',
    'remember when we missed the last train?',
    'remember to buy milk',
    'Do you remember that place? The one with the ramen.',
    'I remember that trip, it was great',
    'remember that',
    'remember:   ',
    'Erinnerst du dich an den Urlaub?',
    '¿Recuerdas el nombre del hotel?',
    'Tu te souviens du nom du resto ?',
    '覚えてる？',
    'the word "remember" is hard to spell',
  ])('%s → null', (text) => {
    expect(extractRememberRequest(text)).toBeNull();
  });

  it('cuts an overlong fact at a word boundary', () => {
    const fact = extractRememberRequest(`remember that ${'I like long walks '.repeat(60)}`);
    expect(fact).not.toBeNull();
    expect(fact!.length).toBeLessThanOrEqual(MAX_MEMORY_CHARS);
    expect(fact!.endsWith('walks') || fact!.endsWith('long') || fact!.endsWith('like') || fact!.endsWith('I')).toBe(true);
  });
});
