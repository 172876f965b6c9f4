import { ReplyClock, ReplyTimeout } from './reply-clock';

const LIMITS = { replyDeadlineMs: 1000, streamIdleMs: 300 };

describe('ReplyClock', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets the first token take until the deadline, then allows at most the idle gap between tokens', () => {
    const clock = new ReplyClock(LIMITS);
    jest.advanceTimersByTime(600);
    expect(clock.signal.aborted).toBe(false);
    clock.token();
    jest.advanceTimersByTime(299);
    expect(clock.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(clock.expired).toEqual(expect.objectContaining({ limit: 'idle', ms: 300 }));
    expect(clock.signal.reason).toBeInstanceOf(ReplyTimeout);
  });

  it('ends a reply whose tokens keep coming at the deadline', () => {
    const clock = new ReplyClock(LIMITS);
    for (let t = 0; t < 1000; t += 100) {
      expect(clock.signal.aborted).toBe(false);
      clock.token();
      jest.advanceTimersByTime(100);
    }
    expect(clock.expired).toEqual(expect.objectContaining({ limit: 'deadline', ms: 1000 }));
  });

  it("passes the caller's cancellation on with its own reason, and is then not a timeout", () => {
    const outer = new AbortController();
    const clock = new ReplyClock(LIMITS, outer.signal);
    const reason = new Error('group closed');
    outer.abort(reason);
    expect(clock.signal.reason).toBe(reason);
    jest.advanceTimersByTime(5000);
    expect(clock.expired).toBeNull();
  });

  it('does nothing once stopped', () => {
    const clock = new ReplyClock(LIMITS);
    clock.token();
    clock.stop();
    jest.advanceTimersByTime(5000);
    expect(clock.signal.aborted).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
