/**
 * Batches streamed text: the first fragment goes out at once (time to first token is
 * what people feel), later ones are gathered for up to `windowMs` or `maxChars`, so a
 * stream of single tokens becomes a few events a second, never one per token.
 */
export class DeltaBatcher {
  private buffer = '';
  private offset = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly maxChars: number,
    private readonly emit: (text: string, offset: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= this.maxChars || this.now() - this.lastFlush >= this.windowMs) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowMs - (this.now() - this.lastFlush)));
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = '';
    this.lastFlush = this.now();
    this.emit(text, this.offset);
    this.offset += text.length;
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buffer = '';
  }
}
