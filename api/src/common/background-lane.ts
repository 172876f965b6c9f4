/**
 * Lets bulk work step aside for I/O. Each `turn()` resolves in a turn of the event loop
 * of its own, one waiter per turn, so whatever I/O became ready in between is handled
 * first: a burst of queued work goes out in slices with the loop's poll phase between
 * them, instead of in one run that every socket waits behind.
 *
 * The AI participant sets replies up in it: when several people mention the AI at once,
 * the setup of the later replies (reading the group, building the prompt, calling the
 * provider) would otherwise delay the first tokens of the replies already streaming.
 */
export class BackgroundLane {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  /** Resolves in a later turn of the event loop than any I/O ready now. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) this.schedule();
    });
  }

  private schedule(): void {
    this.scheduled = true;
    setImmediate(() => {
      this.waiting.shift()?.();
      if (this.waiting.length > 0) this.schedule();
      else this.scheduled = false;
    });
  }
}
