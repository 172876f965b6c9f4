import { AsyncQueue, QueueSink } from './async-queue';

/** A sink that records items and holds them as backlog until released. */
class HoldingSink implements QueueSink<number> {
  readonly written: number[] = [];
  backlog = 0;
  private waiters: Array<() => void> = [];
  closed = false;

  close(): void {
    this.closed = true;
  }

  write(item: number): void {
    this.written.push(item);
    this.backlog++;
  }

  drained(): Promise<void> {
    return this.backlog === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  release(): void {
    this.backlog = 0;
    for (const w of this.waiters.splice(0)) w();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AsyncQueue with a sink', () => {
  it('writes items already queued first, then every pushed item, and yields none itself', async () => {
    const q = new AsyncQueue<number>(() => undefined);
    q.push(1);
    q.push(2);
    const sink = new HoldingSink();
    q.attach(sink);
    q.push(3);
    expect(sink.written).toEqual([1, 2, 3]);
    let settled = false;
    void q.next().then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
  });

  it('counts the sink backlog as its size (the feed ends slow subscribers by it)', () => {
    const q = new AsyncQueue<number>(() => undefined);
    const sink = new HoldingSink();
    q.attach(sink);
    q.push(1);
    q.push(2);
    expect(q.size).toBe(2);
    sink.release();
    expect(q.size).toBe(0);
  });

  it('reports the end only after the sink has written out what came before it', async () => {
    let closed = 0;
    const q = new AsyncQueue<number>(() => closed++);
    const sink = new HoldingSink();
    q.attach(sink);
    const next = q.next();
    let result: IteratorResult<number> | null = null;
    void next.then((r) => (result = r));
    q.push(1);
    q.end();
    expect(closed).toBe(1);
    await tick();
    expect(result).toBeNull();
    sink.release();
    await tick();
    expect(result).toEqual({ value: undefined, done: true });
  });

  it('passes the error that ended the stream on after the backlog', async () => {
    const q = new AsyncQueue<number>(() => undefined);
    const sink = new HoldingSink();
    q.attach(sink);
    q.push(1);
    q.end(new Error('fell behind'));
    const next = q.next();
    let error: unknown = null;
    void next.catch((e) => (error = e));
    await tick();
    expect(error).toBeNull();
    sink.release();
    await tick();
    expect(error).toEqual(new Error('fell behind'));
  });

  it('closes the sink when the consumer returns, not when the feed ends the stream', () => {
    const q = new AsyncQueue<number>(() => undefined);
    const sink = new HoldingSink();
    q.attach(sink);
    q.end();
    expect(sink.closed).toBe(false);
    const r = new AsyncQueue<number>(() => undefined);
    const other = new HoldingSink();
    r.attach(other);
    void r.return();
    expect(other.closed).toBe(true);
  });

  it('drained() follows the sink', async () => {
    const q = new AsyncQueue<number>(() => undefined);
    const sink = new HoldingSink();
    q.attach(sink);
    q.push(1);
    let drained = false;
    void q.drained().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    sink.release();
    await tick();
    expect(drained).toBe(true);
  });
});
