import type { WebSocket } from 'ws';
import { FrameSink, SharedResult } from './frame-sink';

/** Stands in for a `ws` socket: records frames, completes writes when told to. */
class RecordingSocket {
  readonly OPEN = 1;
  readyState = 1;
  readonly frames: string[] = [];
  private readonly callbacks: Array<() => void> = [];

  send(data: Buffer, options: { binary: boolean }, cb: () => void): void {
    expect(options.binary).toBe(false);
    this.frames.push(data.toString('utf8'));
    this.callbacks.push(cb);
  }

  flush(): void {
    for (const cb of this.callbacks.splice(0)) cb();
  }
}

const result = (json: string): SharedResult => ({ bytes: Buffer.from(json) });

describe('FrameSink', () => {
  it('writes graphql-ws next frames with the subscription id and the shared bytes', () => {
    const socket = new RecordingSocket();
    const sink = new FrameSink<string>(socket as unknown as WebSocket, 'sub "1"', (json) => result(json), fail);
    sink.write('{"data":{"groupEvents":{"seq":1}}}');
    expect(socket.frames).toEqual(['{"id":"sub \\"1\\"","type":"next","payload":{"data":{"groupEvents":{"seq":1}}}}']);
    expect(JSON.parse(socket.frames[0])).toEqual({ id: 'sub "1"', type: 'next', payload: { data: { groupEvents: { seq: 1 } } } });
  });

  it('keeps push order when an earlier execution is still running', async () => {
    const socket = new RecordingSocket();
    let release!: () => void;
    const slow = new Promise<SharedResult>((resolve) => (release = () => resolve(result('"first"'))));
    const sink = new FrameSink<string>(socket as unknown as WebSocket, '1', (item) => (item === 'first' ? slow : result(`"${item}"`)), fail);
    sink.write('first');
    sink.write('second');
    sink.write('third');
    expect(socket.frames).toEqual([]);
    expect(sink.backlog).toBe(3);
    release();
    await settle(sink, socket);
    expect(socket.frames.map((f) => JSON.parse(f).payload)).toEqual(['first', 'second', 'third']);
  });

  it('counts frames not yet written out as backlog, and drained() waits for them', async () => {
    const socket = new RecordingSocket();
    const sink = new FrameSink<string>(socket as unknown as WebSocket, '1', (json) => result(json), fail);
    sink.write('1');
    sink.write('2');
    expect(sink.backlog).toBe(2);
    let drained = false;
    void sink.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    socket.flush();
    await Promise.resolve();
    expect(drained).toBe(true);
    expect(sink.backlog).toBe(0);
  });

  it('drops a frame still being prepared when the subscription is closed', async () => {
    const socket = new RecordingSocket();
    let release!: () => void;
    const slow = new Promise<SharedResult>((resolve) => (release = () => resolve(result('"late"'))));
    const sink = new FrameSink<string>(socket as unknown as WebSocket, '1', () => slow, fail);
    sink.write('late');
    sink.close();
    release();
    await settle(sink, socket);
    expect(socket.frames).toEqual([]);
  });

  it('reports an execution that throws to its own subscriber instead of throwing into the feed', () => {
    const socket = new RecordingSocket();
    const errors: unknown[] = [];
    const sink = new FrameSink<string>(socket as unknown as WebSocket, '1', () => {
      throw new Error('cannot serialize');
    }, (err) => errors.push(err));
    expect(() => sink.write('x')).not.toThrow();
    expect(errors).toEqual([new Error('cannot serialize')]);
    expect(socket.frames).toEqual([]);
  });

  it('writes nothing to a socket that is no longer open', () => {
    const socket = new RecordingSocket();
    socket.readyState = 3;
    const sink = new FrameSink<string>(socket as unknown as WebSocket, '1', (json) => result(json), fail);
    sink.write('1');
    expect(socket.frames).toEqual([]);
    expect(sink.backlog).toBe(0);
  });
});

function fail(err: unknown): never {
  throw err;
}

/** Lets pending executions finish and the socket complete every write. */
async function settle(sink: FrameSink<string>, socket: RecordingSocket): Promise<void> {
  for (let i = 0; i < 10 && sink.backlog > 0; i++) {
    await new Promise((r) => setImmediate(r));
    socket.flush();
  }
}
