import { SseParser } from './sse-parser';

function parse(pieces: string[], end = false): Array<[string | null, string]> {
  const events: Array<[string | null, string]> = [];
  const parser = new SseParser((event, data) => events.push([event, data]));
  for (const p of pieces) parser.push(p);
  if (end) parser.end();
  return events;
}

describe('SseParser', () => {
  it('emits one event per blank-line-terminated frame', () => {
    expect(parse(['data: {"a":1}\n\ndata: {"b":2}\n\n'])).toEqual([
      [null, '{"a":1}'],
      [null, '{"b":2}'],
    ]);
  });

  it('reassembles frames split anywhere across chunks, CRLF line ends included', () => {
    const whole = 'data: {"a":"café"}\r\n\r\ndata: [DONE]\r\n\r\n';
    for (let i = 1; i < whole.length; i++) {
      expect(parse([whole.slice(0, i), whole.slice(i)])).toEqual([
        [null, '{"a":"café"}'],
        [null, '[DONE]'],
      ]);
    }
  });

  it('joins multi-line data, keeps the event name, skips comments and other fields', () => {
    expect(parse([': keep-alive\n\nevent: error\nid: 7\ndata: {"error":\ndata:{"message":"x"}}\n\n'])).toEqual([['error', '{"error":\n{"message":"x"}}']]);
  });

  it('holds an unterminated frame until the body ends', () => {
    expect(parse(['data: {"a":1}'])).toEqual([]);
    expect(parse(['data: {"a":1}'], true)).toEqual([[null, '{"a":1}']]);
  });
});
