/**
 * Issue 11, item 4: ROLE=all|api|worker. A worker opens no listener on PORT (connection
 * refused), serves /metrics on METRICS_PORT when set, stays up until SIGTERM and exits 0;
 * a ROLE outside the three is exit code 1 with a message naming ROLE.
 */
import net from 'node:net';
import { freePort } from '../../api/src/db/embedded';
import { ensureBuilt } from '../support/build';
import { createDatabase } from '../support/harness';
import { startService, untilReady } from './service';

beforeAll(ensureBuilt, 120_000);

/** 'refused' when nothing listens on 127.0.0.1:port, else 'accepted'. */
const connect = (port: number) =>
  new Promise<'accepted' | 'refused' | string>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : String(err.code)));
  });

describe('ROLE=worker', () => {
  it.each([true, false])('does not listen on PORT, stays up until SIGTERM and exits 0 (METRICS_PORT set: %s)', async (withMetrics) => {
    const port = await freePort();
    const metricsPort = await freePort();
    const svc = startService({
      ROLE: 'worker',
      PORT: String(port),
      DATABASE_URL: await createDatabase(),
      ...(withMetrics ? { METRICS_PORT: String(metricsPort) } : {}),
    });
    try {
      await svc.waitFor('"msg":"Roundtable worker is running"');
      if (withMetrics) {
        await untilReady(svc, `http://127.0.0.1:${metricsPort}/metrics`);
        expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
      }
      expect(await connect(port)).toBe('refused');
      expect(svc.output()).not.toContain('Roundtable is listening');
      expect({ exitCode: svc.child.exitCode, signal: svc.child.signalCode }).toEqual({ exitCode: null, signal: null });

      svc.child.kill('SIGTERM');
      expect(await svc.exited).toEqual({ code: 0, signal: null });
      expect(svc.output()).toContain('"msg":"stopped"');
      expect(svc.lines().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    } finally {
      svc.kill();
    }
  });
});

it('ROLE=api listens on PORT', async () => {
  const port = await freePort();
  const svc = startService({ ROLE: 'api', PORT: String(port), DATABASE_URL: await createDatabase() });
  try {
    await untilReady(svc, `http://127.0.0.1:${port}/readyz`);
    expect(svc.lines().find((l) => l.msg === 'Roundtable is listening')).toMatchObject({ role: 'api', port });
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toEqual({ code: 0, signal: null });
  } finally {
    svc.kill();
  }
});

it('a ROLE other than all, api or worker is exit code 1 with a message naming ROLE', async () => {
  const svc = startService({ ROLE: 'scheduler', PORT: String(await freePort()), DATABASE_URL: await createDatabase() });
  try {
    expect(await svc.exited).toEqual({ code: 1, signal: null });
    expect(svc.output()).toContain('ROLE must be all, api or worker, got "scheduler"');
  } finally {
    svc.kill();
  }
});
