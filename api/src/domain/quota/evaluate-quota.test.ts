import { DEFAULT_QUOTA_LIMITS, evaluateQuota, parseDuration, parseQuotaConfig } from './evaluate-quota';

const HOUR = 3_600_000;
const now = new Date('2025-11-20T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('evaluateQuota', () => {
  const limit = { max: 3, windowMs: 5 * HOUR };

  it('reports a fresh quota with nothing used and no reset time', () => {
    expect(evaluateQuota([], limit, now)).toEqual({ limit: 3, used: 0, remaining: 3, resetsAt: null, exhausted: false });
  });

  it('counts usage within the rolling window and resets when the oldest counted one leaves it', () => {
    const status = evaluateQuota([ago(4 * HOUR), ago(HOUR)], limit, now);
    expect(status).toEqual({ limit: 3, used: 2, remaining: 1, resetsAt: new Date(now.getTime() + HOUR), exhausted: false });
  });

  it('ignores usage older than the window, including one exactly at its edge', () => {
    const status = evaluateQuota([ago(6 * HOUR), ago(5 * HOUR), ago(30 * 60_000)], limit, now);
    expect(status.used).toBe(1);
    expect(status.resetsAt).toEqual(new Date(now.getTime() + 4.5 * HOUR));
  });

  it('is exhausted when the limit is reached, whatever order the usage comes in', () => {
    const status = evaluateQuota([ago(HOUR), ago(3 * HOUR), ago(2 * HOUR)], limit, now);
    expect(status).toMatchObject({ used: 3, remaining: 0, exhausted: true });
    expect(status.resetsAt).toEqual(new Date(now.getTime() + 2 * HOUR));
  });

  it('accepts millisecond timestamps and a numeric clock', () => {
    const status = evaluateQuota([now.getTime() - HOUR], limit, now.getTime());
    expect(status).toMatchObject({ used: 1, remaining: 2, resetsAt: new Date(now.getTime() + 4 * HOUR) });
  });

  it('counts reservations stamped just after now (clock skew) as used', () => {
    expect(evaluateQuota([now.getTime() + 50], limit, now).used).toBe(1);
  });

  it('after a limit was lowered, resets when enough usage has left for one unit to be free', () => {
    const usage = [ago(4 * HOUR), ago(3 * HOUR), ago(2 * HOUR), ago(HOUR)];
    const status = evaluateQuota(usage, { max: 2, windowMs: 5 * HOUR }, now);
    expect(status).toMatchObject({ used: 4, remaining: 0, exhausted: true });
    // Three must leave: the third oldest, used 2 h ago, leaves in 3 h.
    expect(status.resetsAt).toEqual(new Date(now.getTime() + 3 * HOUR));
    expect(evaluateQuota(usage, { max: 2, windowMs: 5 * HOUR }, new Date(status.resetsAt!.getTime())).remaining).toBe(1);
  });

  it('treats a limit of 0 as always exhausted with no reset time', () => {
    expect(evaluateQuota([ago(HOUR)], { max: 0, windowMs: HOUR * 5 }, now)).toEqual({ limit: 0, used: 1, remaining: 0, resetsAt: null, exhausted: true });
  });

  it('has defaults that grow from Free to Pro', () => {
    const perHour = (p: keyof typeof DEFAULT_QUOTA_LIMITS) => DEFAULT_QUOTA_LIMITS[p].max / DEFAULT_QUOTA_LIMITS[p].windowMs;
    expect(perHour('free')).toBeLessThan(perHour('go'));
    expect(perHour('go')).toBeLessThan(perHour('plus'));
    expect(perHour('plus')).toBeLessThan(perHour('pro'));
  });
});

describe('parseDuration', () => {
  it.each([
    ['5h', 5 * HOUR],
    ['90m', 90 * 60_000],
    ['1d', 24 * HOUR],
    ['30s', 30_000],
    ['1500ms', 1500],
  ])('%s is %d ms', (text, expected) => expect(parseDuration(text)).toBe(expected));

  it.each(['0h', '5', 'h', '5 hours', '-1h', '1.5h', '5w'])('rejects %s', (text) => expect(parseDuration(text)).toBeNull());
});

describe('parseQuotaConfig', () => {
  it('reads every plan', () => {
    expect(parseQuotaConfig('free=10/5h,go=40/5h,plus=80/3h,pro=1000/3h')).toEqual({
      ok: true,
      limits: {
        free: { max: 10, windowMs: 5 * HOUR },
        go: { max: 40, windowMs: 5 * HOUR },
        plus: { max: 80, windowMs: 3 * HOUR },
        pro: { max: 1000, windowMs: 3 * HOUR },
      },
    });
  });

  it('keeps defaults for plans it does not name, and for an empty setting', () => {
    const result = parseQuotaConfig(' free = 5/90m , ');
    expect(result).toEqual({ ok: true, limits: { ...DEFAULT_QUOTA_LIMITS, free: { max: 5, windowMs: 90 * 60_000 } } });
    expect(parseQuotaConfig('')).toEqual({ ok: true, limits: DEFAULT_QUOTA_LIMITS });
  });

  it('allows a limit of 0 to switch the AI off for a plan', () => {
    expect(parseQuotaConfig('free=0/1h')).toMatchObject({ ok: true, limits: { free: { max: 0, windowMs: HOUR } } });
  });

  it('lists every problem', () => {
    const result = parseQuotaConfig('free=ten/5h,gold=10/1h,go=40,plus=80/0h,pro=-1/3h,free=10/5h');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(6);
    expect(result.problems.join('\n')).toMatch(/free=ten\/5h.*whole number/);
    expect(result.problems.join('\n')).toMatch(/unknown plan "gold"/);
    expect(result.problems.join('\n')).toMatch(/"go=40": expected plan=max\/window/);
    expect(result.problems.join('\n')).toMatch(/plus=80\/0h.*positive duration/);
    expect(result.problems.join('\n')).toMatch(/pro=-1\/3h.*whole number/);
    expect(result.problems.join('\n')).toMatch(/free is set more than once/);
  });
});
