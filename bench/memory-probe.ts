/**
 * Answers memory questions over IPC, for bench:connections. Preloaded into the service
 * (`node --expose-gc -r dist/bench/memory-probe.js`, only when a bench starts it so) and
 * called by the raw baseline: `{ t: 'memory' }` forces full collections and replies with
 * `{ t: 'memory', usage }`; `{ t: 'heap-snapshot', file }` writes a heap snapshot and
 * replies `{ t: 'heap-snapshot', file }`. The channel never keeps a process alive.
 */
import { setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Full collections until the heap stops shrinking (weak callbacks and finalizers run between them). */
export async function settledMemory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory probe: run node with --expose-gc');
  let last = Infinity;
  for (let i = 0; i < 6; i++) {
    gc();
    await tick();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 64 * 1024) break;
    last = used;
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
}

export function answerMemoryRequests(): void {
  if (!process.send) return;
  process.on('message', (m: { t?: string; file?: string }) => {
    if (m?.t === 'memory') void settledMemory().then((usage) => process.send!({ t: 'memory', usage }));
    if (m?.t === 'heap-snapshot') process.send!({ t: 'heap-snapshot', file: v8.writeHeapSnapshot(m.file) });
  });
  process.channel?.unref();
}

// Preloaded with -r: this module is the preload itself.
if (require.main !== module && process.env.BENCH_MEMORY_PROBE === '1') answerMemoryRequests();
