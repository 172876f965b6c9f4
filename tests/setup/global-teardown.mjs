import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default async function globalTeardown() {
  const pg = globalThis.__EMBEDDED_PG__;
  if (pg) await pg.stop(); // persistent: false removes the data directory
  // tests/support/build.ts: this run's "compiled already" marker.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  rmSync(path.join(root, '.data', `tests-built-${process.pid}`), { force: true });
}
