import { DeltaBatcher } from './delta-batcher';

describe('DeltaBatcher', () => {
  it('sends the first fragment at once and gathers the next ones within the window', () => {
    let t = 0;
    const out: Array<[string, number]> = [];
    const b = new DeltaBatcher(40, 1000, (text, offset) => out.push([text, offset]), () => t);
    b.push('Hel');
    expect(out).toEqual([['Hel', 0]]);
    t = 5;
    b.push('lo');
    t = 10;
    b.push(' wor');
    expect(out).toHaveLength(1);
    t = 45;
    b.push('ld');
    expect(out).toEqual([['Hel', 0], ['lo world', 3]]);
    b.cancel();
  });

  it('flushes early when the buffer reaches maxChars, and flush() empties the rest', () => {
    let t = 0;
    const out: string[] = [];
    const b = new DeltaBatcher(1000, 5, (text) => out.push(text), () => t);
    b.push('a');
    t = 1;
    b.push('bc');
    b.push('def');
    expect(out).toEqual(['a', 'bcdef']);
    b.push('g');
    b.flush();
    expect(out).toEqual(['a', 'bcdef', 'g']);
  });

  it('turns 1,000 single-token deltas arriving within one window into a handful of events', () => {
    let t = 0;
    const out: string[] = [];
    const b = new DeltaBatcher(40, 64, (text) => out.push(text), () => t);
    for (let i = 0; i < 1000; i++) {
      t = i * 0.01;
      b.push('x');
    }
    b.flush();
    expect(out.join('')).toHaveLength(1000);
    expect(out.length).toBeLessThanOrEqual(1 + Math.ceil(999 / 64));
  });
});
