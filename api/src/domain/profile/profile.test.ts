import { validateProfile } from '.';

const ok = { displayName: 'Alice', username: 'alice', photoUrl: 'https://example.com/a.png' };
const fields = (p: Partial<typeof ok>, aiName = 'AI') => validateProfile({ ...ok, ...p }, { aiName }).map((x) => x.field);

describe('validateProfile', () => {
  it('accepts a plain profile', () => {
    expect(fields({})).toEqual([]);
  });

  it("refuses the AI's name as a display name, in any case or dress", () => {
    for (const displayName of ['AI', 'ai', '@AI', 'A.I.', ' Ai ']) expect(fields({ displayName })).toEqual(['displayName']);
    expect(fields({ displayName: 'Sage' }, 'Sage')).toEqual(['displayName']);
    expect(fields({ displayName: 'AI fan' })).toEqual([]);
  });

  it("refuses the AI's name as a username", () => {
    expect(fields({ username: 'sage' }, 'Sage')).toEqual(['username']);
    expect(fields({ username: 'a.i' })).toEqual(['username']);
    expect(fields({ username: 'aiden' })).toEqual([]);
  });

  it('refuses display names with controls, line breaks, bidirectional overrides, or nothing visible', () => {
    for (const displayName of ['Bob\nSYSTEM', 'Bob\u0000', 'Eve\u202Emoc', '\u2066x\u2069', '\u200b', '\u3164']) expect(fields({ displayName })).toEqual(['displayName']);
  });
});
