/**
 * CPU time used by each process of the bench, read from /proc (Linux). Wall-clock
 * profiles on a busy 2-core machine mostly show waiting for a core; CPU time per
 * message shows which side of the pipeline actually does the work.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

interface Stat {
  pid: number;
  ppid: number;
  cpuMs: number;
}

function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

export interface CpuSample {
  service: number;
  raw: number;
  /** By pid: backends and autovacuum workers come and go. */
  postgres: Map<number, number>;
  bench: number;
}

export interface CpuUse {
  service: number;
  raw: number;
  postgres: number;
  bench: number;
}

/** CPU ms so far of the service, the baseline server, PostgreSQL (postmaster and every backend) and this process. */
export function cpuSample(servicePid: number, rawPid: number, dataDir: string): CpuSample | null {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return null;
  }
  const stats = pids.map(stat).filter((s): s is Stat => s !== null);
  const postmaster = stats.find((s) => cmdline(s.pid).includes(dataDir));
  const postgres = new Map((postmaster ? stats.filter((s) => s.pid === postmaster.pid || s.ppid === postmaster.pid) : []).map((s) => [s.pid, s.cpuMs]));
  return {
    service: stat(servicePid)?.cpuMs ?? NaN,
    raw: stat(rawPid)?.cpuMs ?? NaN,
    postgres,
    bench: stat(process.pid)?.cpuMs ?? NaN,
  };
}

/** CPU ms used between two samples (a PostgreSQL process that exited in between is not counted). */
export function cpuDelta(a: CpuSample | null, b: CpuSample | null): CpuUse | null {
  if (!a || !b) return null;
  let postgres = 0;
  for (const [pid, ms] of b.postgres) postgres += ms - (a.postgres.get(pid) ?? 0);
  return { service: b.service - a.service, raw: b.raw - a.raw, postgres: b.postgres.size ? postgres : NaN, bench: b.bench - a.bench };
}
