import pino from 'pino';
import type { WebSocket } from 'ws';
import { SLOW_CONSUMER_CLOSE_CODE, WsLimits } from './ws-limits';

/** Stands in for a `ws` socket: bufferedAmount is set by the test, closes are recorded. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  closes: number[] = [];
  callbacks: Array<(err?: Error) => void> = [];

  send(_data: string, cb: (err?: Error) => void): void {
    this.callbacks.push(cb);
  }

  close(code: number): void {
    this.closes.push(code);
    this.readyState = 2;
  }

  terminate(): void {
    this.readyState = 3;
  }
}

const options = { maxSubscriptionsPerSocket: 2, maxSubscriptionsPerUser: 3, maxBufferedBytes: 1000, maxBufferedBytesPerUser: 1500 };
const limits = () => new WsLimits(options, pino({ level: 'silent' }));
const asWs = (s: FakeSocket) => s as unknown as WebSocket;

/** graphql-ws puts an operation's id in `subscriptions` before onSubscribe and removes it when the operation ends. */
function connection(l: WsLimits, socket = new FakeSocket()) {
  const ctx = { subscriptions: Object.create(null) as Record<string, unknown> };
  l.open(asWs(socket));
  return {
    socket,
    ctx,
    subscribe(id: string, user = 'u1') {
      ctx.subscriptions[id] = null;
      const refused = l.admit(asWs(socket), ctx, user, id, true);
      if (refused) delete ctx.subscriptions[id];
      return refused?.extensions.code ?? 'ok';
    },
    end(id: string) {
      delete ctx.subscriptions[id];
    },
  };
}

describe('WsLimits: subscriptions', () => {
  it('refuses a subscription past the per-socket limit with RATE_LIMITED, and admits one again when one ends', () => {
    const c = connection(limits());
    expect([c.subscribe('a'), c.subscribe('b'), c.subscribe('c')]).toEqual(['ok', 'ok', 'RATE_LIMITED']);
    c.end('a');
    expect(c.subscribe('c')).toBe('ok');
  });

  it('does not count queries and mutations', () => {
    const l = limits();
    const c = connection(l);
    c.subscribe('a');
    c.subscribe('b');
    c.ctx.subscriptions.q = null;
    expect(l.admit(asWs(c.socket), c.ctx, 'u1', 'q', false)).toBeNull();
  });

  it('counts one user across sockets, not other users, and forgets a closed socket', () => {
    const l = limits();
    const a = connection(l);
    const b = connection(l);
    expect([a.subscribe('1'), a.subscribe('2'), b.subscribe('1'), b.subscribe('2')]).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);
    expect(connection(l).subscribe('1', 'u2')).toBe('ok');
    l.closed(asWs(a.socket));
    expect(b.subscribe('2')).toBe('ok');
  });

  it('still limits a socket whose user is not known', () => {
    const l = limits();
    const socket = new FakeSocket();
    l.open(asWs(socket));
    const ctx = { subscriptions: { a: null, b: null, c: null } as Record<string, unknown> };
    expect(['a', 'b', 'c'].map((id) => l.admit(asWs(socket), ctx, null, id, true)?.extensions.code ?? 'ok')).toEqual(['ok', 'ok', 'RATE_LIMITED']);
  });
});

describe('WsLimits: bytes left unsent', () => {
  it('closes a socket with 1013 once its bufferedAmount passes the budget, and only once', () => {
    const l = limits();
    const c = connection(l);
    c.subscribe('a');
    const ledger = l.ledgerOf(asWs(c.socket))!;
    c.socket.bufferedAmount = 1000;
    ledger.afterWrite();
    expect(c.socket.closes).toEqual([]);
    c.socket.bufferedAmount = 1001;
    ledger.afterWrite();
    ledger.afterWrite();
    expect(c.socket.closes).toEqual([SLOW_CONSUMER_CLOSE_CODE]);
  });

  it('closes the user socket holding the most once the user total passes its budget, and counts drained bytes out', () => {
    const l = limits();
    const a = connection(l);
    const b = connection(l);
    a.subscribe('1');
    b.subscribe('1');
    const la = l.ledgerOf(asWs(a.socket))!;
    const lb = l.ledgerOf(asWs(b.socket))!;
    a.socket.bufferedAmount = 900;
    la.afterWrite();
    b.socket.bufferedAmount = 500;
    lb.afterWrite();
    expect([a.socket.closes, b.socket.closes]).toEqual([[], []]);
    // a drains: its write callback reports what is left.
    a.socket.bufferedAmount = 100;
    la.afterFlush();
    b.socket.bufferedAmount = 900;
    lb.afterWrite();
    expect([a.socket.closes, b.socket.closes]).toEqual([[], []]);
    a.socket.bufferedAmount = 700;
    la.afterWrite();
    expect([a.socket.closes, b.socket.closes]).toEqual([[], [SLOW_CONSUMER_CLOSE_CODE]]);
  });

  it('counts graphql-ws replies through send() like event frames', async () => {
    const l = limits();
    const c = connection(l);
    const ledger = l.ledgerOf(asWs(c.socket))!;
    c.socket.bufferedAmount = 2000;
    const sent = ledger.send('{"type":"pong"}');
    expect(c.socket.closes).toEqual([SLOW_CONSUMER_CLOSE_CODE]);
    c.socket.callbacks[0]();
    await sent;
  });
});
