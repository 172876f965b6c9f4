import { FixedWindowLimiter } from './fixed-window';

describe('FixedWindowLimiter', () => {
  it('admits up to the limit per window and per key, then says how long to wait', () => {
    const l = new FixedWindowLimiter(2, 60_000);
    expect(l.hit('a', 0)).toBe(0);
    expect(l.hit('a', 10)).toBe(0);
    expect(l.hit('a', 20)).toBe(59_980);
    expect(l.hit('b', 20)).toBe(0);
    expect(l.hit('a', 60_000)).toBe(0);
  });
});
