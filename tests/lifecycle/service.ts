/**
 * The compiled service (dist/api/src/main.js) as a child process of the test, with only
 * the environment given (and PATH): its output, its exit, and waits on either.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../support/build';
import { TEST_SECRET } from '../support/harness';

export interface Service {
  child: ChildProcess;
  output(): string;
  /** The service's JSON log lines, parsed (other lines are skipped). */
  lines(): Array<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `text` appears in the output; rejects if the process exits first or `timeoutMs` passes. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** SIGKILLs the process (its whole group when detached) if it is still running. */
  kill(): void;
}

/** Settings every run needs; `env` adds to or overrides them. */
export const BASE_ENV = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  JWT_SECRET: TEST_SECRET,
  STAFF_JWT_SECRET: 'lifecycle-test-staff-secret-0123456789abcdef',
  MESSAGE_RATE_PER_MINUTE: '100000',
  SHUTDOWN_GRACE_MS: '3000',
  LOG_LEVEL: 'info',
};

export function startService(env: Record<string, string>, options: { detached?: boolean } = {}): Service {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/api/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    output += d;
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const waitFor = async (text: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!output.includes(text)) {
      if (!running()) throw new Error(`the service exited before "${text}":\n${output}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${text}" in time:\n${output}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => waiters.push(r)), exited, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
  };
  const lines = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, any>;
        } catch {
          return {};
        }
      });
  const kill = () => {
    if (!running()) return;
    try {
      if (options.detached) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  };
  return { child, output: () => output, lines, exited, waitFor, kill };
}

/** Waits until GET url answers 2xx, failing if the service exits first. */
export async function untilReady(svc: Service, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (svc.child.exitCode !== null || svc.child.signalCode !== null) throw new Error(`the service exited before it was ready:\n${svc.output()}`);
    if (Date.now() > deadline) throw new Error(`the service was not ready in time:\n${svc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
