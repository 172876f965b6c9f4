import { aiReactionFor } from './reaction';

describe('aiReactionFor', () => {
  it.each([
    ['thanks @AI!', '❤️'],
    ['@AI thank you so much', '❤️'],
    ['Danke dir @AI', '❤️'],
    ['gracias @AI', '❤️'],
    ['merci beaucoup @AI', '❤️'],
    ['ありがとう @AI', '❤️'],
    ['@AI ok got it', null],
    ['@AI perfect!', '👍'],
    ['got it @AI 👍', '👍'],
  ])('%s → %s', (body, expected) => {
    expect(aiReactionFor(body)).toBe(expected);
  });

  it.each([
    'thanks @AI, and what about dinner on Friday?',
    '@AI can you thank everyone in the group for me?',
    '@AI what is the best ramen in Kyoto?',
    'thanks for nothing, the restaurant you picked was closed and we walked for an hour in the rain',
  ])('answers with words: %s', (body) => {
    expect(aiReactionFor(body)).toBeNull();
  });
});
