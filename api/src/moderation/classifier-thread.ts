/**
 * The built-in moderation classifier on a thread of its own. Scoring a reply of a
 * thousand characters takes the classifier about half a millisecond; on the event loop
 * that is half a millisecond every other reply's tokens and completion wait, and replies
 * that end together wait for each other's. The scores are classifyLocal's, computed by
 * the same code; if the thread fails, the text is scored here instead.
 *
 * Only the compiled service has a thread: run from TypeScript sources (jest), there is
 * no JavaScript file to start it from and texts are scored on the caller's thread.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CategoryScores, classifyLocal } from '../domain/safety/moderation';

const WORKER_FILE = __filename.endsWith('.js') ? path.join(__dirname, 'classifier.worker.js') : null;

export class ClassifierThread {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, (scores: CategoryScores | null) => void>();
  private next = 0;

  /** Starts the thread at once, so that the first text after boot does not wait for it to load. */
  constructor(private readonly file: string | null = WORKER_FILE) {
    this.start();
  }

  async classify(text: string): Promise<CategoryScores> {
    const worker = this.start();
    if (!worker) return classifyLocal(text).categories;
    const id = ++this.next;
    const scores = await new Promise<CategoryScores | null>((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ id, text });
    });
    return scores ?? classifyLocal(text).categories;
  }

  /** Stops the thread; later calls start a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.settleAll();
    await worker?.terminate();
  }

  private start(): Worker | null {
    if (this.worker || !this.file) return this.worker;
    let worker: Worker;
    try {
      worker = new Worker(this.file);
    } catch {
      return null; // scored on the caller's thread
    }
    // Never what keeps the process alive: shutdown does not have to know about it.
    worker.unref();
    worker.on('message', ({ id, scores }: { id: number; scores: CategoryScores }) => {
      const resolve = this.waiting.get(id);
      this.waiting.delete(id);
      resolve?.(scores);
    });
    const fail = () => {
      if (this.worker !== worker) return;
      // Whatever it was scoring is scored on the caller's thread; the next text starts a new thread.
      this.worker = null;
      this.settleAll();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  private settleAll(): void {
    for (const resolve of this.waiting.values()) resolve(null);
    this.waiting.clear();
  }
}
