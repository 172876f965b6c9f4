import { DomainError } from '../errors';
import { CostBudget, CostRate, InFlightLimiter, Release } from './in-flight';

describe('InFlightLimiter', () => {
  it('lets `limit` run, queues `queue` more first come first served, and refuses the rest with RATE_LIMITED (429)', async () => {
    const limiter = new InFlightLimiter(2, 2);
    const a = limiter.acquire('u') as Release;
    const b = limiter.acquire('u') as Release;
    const started: string[] = [];
    const c = Promise.resolve(limiter.acquire('u')).then((r) => (started.push('c'), r));
    const d = Promise.resolve(limiter.acquire('u')).then((r) => (started.push('d'), r));
    let refused: unknown;
    try {
      limiter.acquire('u');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).extensions).toMatchObject({ code: 'RATE_LIMITED', http: { status: 429 } });
    expect(limiter.load('u')).toEqual({ running: 2, waiting: 2 });

    // Another key has turns of its own.
    expect(typeof limiter.acquire('v')).toBe('function');

    a();
    a(); // a second release of the same turn gives nothing back
    await c;
    expect(started).toEqual(['c']);
    expect(limiter.load('u')).toEqual({ running: 2, waiting: 1 });
    b();
    (await d)();
    (await c)();
    expect(limiter.load('u')).toEqual({ running: 0, waiting: 0 });
  });
});

describe('CostBudget', () => {
  it('admits operations while their costs fit, one alone always, and lets a cheap one pass an expensive one that waits', async () => {
    const budget = new CostBudget(100);
    const a = budget.acquire(60) as Release;
    const order: string[] = [];
    const big = Promise.resolve(budget.acquire(80)).then((r) => (order.push('big'), r));
    const small = Promise.resolve(budget.acquire(30)).then((r) => (order.push('small'), r));
    await small;
    expect(order).toEqual(['small']);
    expect(budget.load()).toEqual({ used: 90, waiting: 1 });
    a();
    (await small)();
    await big;
    expect(order).toEqual(['small', 'big']);
    (await big)();
    // More than the whole budget still runs when nothing else does.
    (budget.acquire(500) as Release)();
    expect(budget.load()).toEqual({ used: 0, waiting: 0 });
  });
});

describe('CostRate', () => {
  it('spends the burst at once, then makes each user wait for the refill, and refuses past the longest wait', async () => {
    let t = 0;
    const waits: number[] = [];
    const rate = new CostRate(100, 1000, 5000, () => t, async (ms) => void waits.push(ms));
    expect(rate.take('u', 1000)).toBeUndefined();
    await rate.take('u', 200);
    expect(waits).toEqual([2000]);
    t += 2000;
    // The wait already served refilled what the last take reserved.
    await rate.take('u', 100);
    expect(waits).toEqual([2000, 1000]);
    // Another user has a bucket of its own.
    expect(rate.take('v', 1000)).toBeUndefined();
    expect(() => rate.take('u', 600)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', http: { status: 429 } }) }));
    // A refused take leaves the bucket as it was.
    t += 1000;
    await rate.take('u', 100);
    expect(waits).toEqual([2000, 1000, 1000]);
  });
});
