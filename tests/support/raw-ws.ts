/**
 * A WebSocket client by hand over a net.Socket, for frames no well-behaved client sends:
 * unmasked, invalid UTF-8, reserved opcodes and bits, lengths over the limit, fragments.
 * It does the upgrade handshake itself and parses what the server sends back.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Wakeup } from './wakeup';

export interface FrameOptions {
  opcode?: number;
  fin?: boolean;
  /** RSV1..3 as a 3-bit number. */
  rsv?: number;
  mask?: boolean;
  /** Length to announce instead of the payload's own (the payload is sent as given). */
  announcedLength?: number;
}

/** One WebSocket frame as a client would put it on the wire (masked unless told otherwise). */
export function encodeFrame(payload: Buffer | string, options: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const { opcode = 1, fin = true, rsv = 0, mask = true } = options;
  const length = options.announcedLength ?? data.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(length));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, data]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** A raw connection after a successful upgrade: frames from the server, and how it ended. */
export class RawWs {
  readonly frames: ServerFrame[] = [];
  /** The code of the server's close frame, if one came. */
  closeCode: number | null = null;
  ended = false;
  private buffer = Buffer.alloc(0);
  private readonly arrivals = new Wakeup();

  constructor(
    readonly socket: net.Socket,
    rest: Buffer,
  ) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
    if (rest.length > 0) this.onData(rest);
  }

  send(frame: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  /** Sends a graphql-ws message as a proper (masked, text) frame. */
  sendJson(message: unknown): void {
    this.send(encodeFrame(JSON.stringify(message)));
  }

  /** The graphql-ws messages received so far (text frames parsed as JSON). */
  messages(): Array<{ type: string; id?: string; payload?: any }> {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString('utf8')));
  }

  /** Waits until `predicate` holds or the connection ends. */
  async until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const done = () => {
      if (predicate()) return true;
      if (this.ended) throw new Error(`connection ended first (close code ${this.closeCode}); got ${JSON.stringify(this.messages()).slice(0, 500)}`);
      return false;
    };
    await this.arrivals.until(done, timeoutMs, () => new Error(`timed out; got ${JSON.stringify(this.messages()).slice(0, 500)}`));
  }

  /** connection_init with `token`, then waits for the ack. */
  async init(token: string): Promise<void> {
    this.sendJson({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await this.until(() => this.messages().some((m) => m.type === 'connection_ack'));
  }

  /** Resolves with the server's close code (null if the connection ended without one) once the TCP connection is gone. */
  async closed(timeoutMs = 10_000): Promise<number | null> {
    await this.arrivals.until(() => this.ended, timeoutMs, () => new Error(`the server did not close the connection (close code ${this.closeCode})`));
    return this.closeCode;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = parseServerFrame(this.buffer);
      if (!frame) break;
      this.buffer = this.buffer.subarray(frame.size);
      this.frames.push({ opcode: frame.opcode, payload: frame.payload });
      if (frame.opcode === 8) {
        this.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
        // Answer the close as a client does, so the server finishes at once.
        this.send(encodeFrame(frame.payload.subarray(0, 2), { opcode: 8 }));
        this.socket.end();
      }
    }
    this.wake();
  }

  private wake(): void {
    this.arrivals.wake();
  }
}

function parseServerFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  let length = buf[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return null;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  if (buf.length < offset + length) return null;
  return { opcode, payload: buf.subarray(offset, offset + length), size: offset + length };
}

/** The status line and headers of an HTTP response, and what followed them. */
export interface RawResponse {
  status: number;
  headers: string;
  rest: Buffer;
  socket: net.Socket;
}

/** Sends `request` (raw HTTP bytes) and resolves with the response head, or null if the server closed first. */
export function rawRequest(port: number, request: string | Buffer): Promise<RawResponse | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      const headers = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0);
      resolve({ status, headers, rest: buf.subarray(end + 4), socket });
    };
    const onClose = () => resolve(null);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.once('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(null) : reject(err)));
    socket.write(request);
  });
}

/** An upgrade request for `path` (graphql-transport-ws unless told otherwise). */
export function upgradeRequest(path = '/graphql', headers: Record<string, string | null> = {}): string {
  const all: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Protocol': 'graphql-transport-ws',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Upgrades a raw connection to /graphql and checks the server's accept key. */
export async function rawConnect(port: number, protocol = 'graphql-transport-ws'): Promise<RawWs> {
  const key = randomBytes(16).toString('base64');
  const res = await rawRequest(port, upgradeRequest('/graphql', { 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Protocol': protocol }));
  if (!res || res.status !== 101) throw new Error(`upgrade refused: ${res?.headers ?? 'connection closed'}`);
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  if (!res.headers.includes(`Sec-WebSocket-Accept: ${accept}`)) throw new Error(`bad accept key in ${res.headers}`);
  const ws = new RawWs(res.socket, res.rest);
  res.socket.resume();
  return ws;
}
