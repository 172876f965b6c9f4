/**
 * Waiting in tests for something that arrives (a frame, an event, a close) without polling
 * or fixed sleeps: whatever changes the state calls `wake()`, and every waiter looks again.
 */
export class Wakeup {
  private waiters: Array<() => void> = [];

  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Resolves once `done()` holds, looking again at each wake-up. `done` may throw to give up
   * early (the stream ended first, say); past `timeoutMs`, `timedOut()` is thrown.
   */
  async until(done: () => boolean, timeoutMs: number, timedOut: () => Error): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw timedOut();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
