/**
 * bench:fanout's idle probe, its own process: a Node event loop with nothing to do but
 * measure its own delay (monitorEventLoopDelay, 1 ms resolution), so the servers' stalls
 * can be told from the machine's (other processes taking the core, the hypervisor). On
 * `{ t: 'loop' }` it answers `{ t: 'loop', delay }` with its delay since the last ask and
 * starts afresh; on `{ t: 'stop' }` it exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
process.on('message', (m: { t: string }) => {
  if (m.t === 'stop') process.exit(0);
  if (m.t !== 'loop') return;
  const ms = (ns: number) => ns / 1e6;
  process.send!({ t: 'loop', delay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) } });
  loop.reset();
});
process.send!({ t: 'ready' });
