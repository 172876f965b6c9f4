/**
 * Issue 11, item 3: migrations at boot take a PostgreSQL advisory lock, so that several
 * instances starting together on an empty database migrate once. Two compiled services
 * are started in the same tick on one new database: both become ready, every migration
 * is recorded exactly once, and neither logs an error.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../api/src/db/embedded';
import { ensureBuilt, ROOT } from '../support/build';
import { createDatabase } from '../support/harness';
import { Service, startService, untilReady } from './service';

beforeAll(ensureBuilt, 120_000);

const MIGRATIONS = readdirSync(path.join(ROOT, 'migrations')).filter((f) => /^\d+-.*\.ts$/.test(f)).length;

it('two instances started together on an empty database both start, and each migration runs once', async () => {
  const databaseUrl = await createDatabase();
  const ports = [await freePort(), await freePort()];
  // Spawned in the same tick: both reach the migrations at about the same moment.
  const services: Service[] = ports.map((port) => startService({ PORT: String(port), DATABASE_URL: databaseUrl }));
  try {
    await Promise.all(services.map((svc, i) => untilReady(svc, `http://127.0.0.1:${ports[i]}/readyz`)));

    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name');
      expect(rows).toHaveLength(MIGRATIONS);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    } finally {
      await pg.end();
    }
    // Exactly one of them applied the migrations; the other found none left.
    expect(services.filter((s) => s.output().includes('"msg":"migrations applied"'))).toHaveLength(1);
    for (const svc of services) expect(svc.lines().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);

    for (const svc of services) svc.child.kill('SIGTERM');
    for (const svc of services) expect(await svc.exited).toEqual({ code: 0, signal: null });
  } finally {
    for (const svc of services) svc.kill();
  }
});
