/**
 * Server-sent events, parsed as the OpenAI SDK parses them (LF or CRLF line ends, `data:`
 * lines joined by newlines, `event:` kept, comments skipped), but pushed text in and
 * events out synchronously: no buffer copies, iterators or promises per frame.
 */
export class SseParser {
  private pending = '';
  private data: string[] = [];
  private event: string | null = null;

  constructor(private readonly onEvent: (event: string | null, data: string) => void) {}

  push(text: string): void {
    const all = this.pending + text;
    let start = 0;
    for (let nl = all.indexOf('\n'); nl !== -1; nl = all.indexOf('\n', start)) {
      this.line(all.charCodeAt(nl - 1) === 13 && nl > start ? all.slice(start, nl - 1) : all.slice(start, nl));
      start = nl + 1;
    }
    this.pending = start === 0 ? all : all.slice(start);
  }

  /** The body ended: a last event without its blank line still counts. */
  end(): void {
    if (this.pending) this.line(this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending);
    this.pending = '';
    this.line('');
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length === 0 && this.event === null) return;
      const event = this.event;
      const data = this.data.join('\n');
      this.event = null;
      this.data = [];
      this.onEvent(event, data);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' starts a comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
