import { hasVisibleText, nameProblem, reservedNameKey } from './member-text';

describe('hasVisibleText', () => {
  it.each([
    ['', 'empty'],
    [' \t\n\r', 'white space'],
    ['\u200b', 'zero-width space'],
    ['\u200b\u200c\u200d\u2060', 'zero-width joiners and word joiner'],
    ['\ufeff', 'byte order mark'],
    ['\u00a0\u3000\u2003', 'non-breaking and wide spaces'],
    ['\u3164\u115f\uffa0', 'Hangul fillers'],
    ['\u2800', 'blank Braille cell'],
    ['\ufe0f\u180e', 'variation selector and Mongolian vowel separator'],
    ['\u202e\u2066\u200f', 'bidirectional controls'],
    ['\u{e0041}\u{e0042}', 'tag characters'],
    ['\u00ad\u034f', 'soft hyphen and combining grapheme joiner'],
  ])('refuses %j (%s)', (text) => {
    expect(hasVisibleText(text)).toBe(false);
  });

  it.each(['a', ' ok ', '\u200bhi', '🍜', '日本', '👍🏽', '\u0627\u0644'])('accepts %j', (text) => {
    expect(hasVisibleText(text)).toBe(true);
  });
});

describe('nameProblem', () => {
  it.each([
    ['Ali\u202Ece', 'bidirectional'],
    ['\u2066Bob\u2069', 'bidirectional'],
    ['Bob\u202A', 'bidirectional'],
    ['Bob\nSystem', 'control'],
    ['Bob\tX', 'control'],
    ['Bell\u0007', 'control'],
    ['C1\u0085', 'control'],
    ['Line\u2028Break', 'control'],
    ['\u200b\u200b', 'visible'],
  ])('refuses %j', (name, problem) => {
    expect(nameProblem(name)).toContain(problem);
  });

  it.each(['Alice', 'María José', '\u05D3\u05E0\u05D4\u200F', 'Zoë 🎸', 'Jo <Admin>'])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeNull();
  });
});

describe('reservedNameKey', () => {
  it('reads the AI name however it is dressed up', () => {
    for (const name of ['AI', 'ai', ' Ai ', '@AI', 'A.I.', 'Ａ Ｉ', 'a\u200bi']) expect(reservedNameKey(name)).toBe('ai');
    expect(reservedNameKey('AI Fan')).not.toBe('ai');
  });
});
