import { safetyProfile } from './safety-profile';

describe('safetyProfile', () => {
  it('is STANDARD when every member is an adult', () => {
    expect(safetyProfile([{ ageBand: 'adult' }, { ageBand: 'adult' }], true)).toBe('STANDARD');
  });
  it('is TEEN while any member is a minor', () => {
    expect(safetyProfile([{ ageBand: 'adult' }, { ageBand: 'minor' }], false)).toBe('TEEN');
  });
  it('treats unknown age as a minor by default and as an adult when configured so', () => {
    expect(safetyProfile([{ ageBand: 'adult' }, { ageBand: null }], true)).toBe('TEEN');
    expect(safetyProfile([{ ageBand: 'adult' }, { ageBand: null }], false)).toBe('STANDARD');
  });
});
