import { DomainError } from '../errors';
import { InFlightLimiter, Release } from './in-flight';

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
