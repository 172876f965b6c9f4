/**
 * Issue 11, item 4: docker/compose.yml runs an `api` and a `worker` from one image, passes
 * every OPENAI_* and AI_* setting config/env.ts reads through to both, and publishes the
 * api's port on 127.0.0.1 unless ROUNDTABLE_BIND says otherwise. (No docker engine here:
 * the file is read as text, service by service.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/build';

const compose = readFileSync(path.join(ROOT, 'docker/compose.yml'), 'utf8');
const settings = [...new Set([...readFileSync(path.join(ROOT, 'api/src/config/env.ts'), 'utf8').matchAll(/'((?:OPENAI|AI)_[A-Z0-9_]+)'/g)].map((m) => m[1]))].sort();

/** The lines of one top-level service block (two-space indent) of compose.yml. */
function service(name: string): string {
  const start = compose.indexOf(`\n  ${name}:\n`);
  if (start < 0) throw new Error(`no service ${name} in compose.yml`);
  const rest = compose.slice(start + 1);
  const end = rest.slice(1).search(/\n {2}[a-z][\w-]*:\n|\n[a-z]/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

it('reads some OPENAI_* and AI_* settings from env.ts', () => {
  expect(settings).toEqual(expect.arrayContaining(['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'AI_QUOTA']));
});

it('passes every OPENAI_* and AI_* setting through to the api and the worker, empty meaning the default', () => {
  const missing = settings.filter((name) => !compose.includes(`  ${name}: \${${name}:-}\n`));
  expect(missing).toEqual([]);
  // Both services take the shared environment.
  for (const name of ['api', 'worker']) expect({ name, shared: service(name).includes('<<: *roundtable-env') }).toEqual({ name, shared: true });
});

it('runs ROLE=api and ROLE=worker from the same image; only the api publishes a port, on 127.0.0.1 by default', () => {
  expect(service('api')).toContain('ROLE: api');
  expect(service('worker')).toContain('ROLE: worker');
  for (const name of ['api', 'worker']) expect(service(name)).toContain('<<: *roundtable\n');
  expect(compose).toMatch(/\nx-roundtable: &roundtable\n(?: {2}.*\n)*? {2}image: roundtable-api:local\n/);
  expect(service('api')).toContain('- "${ROUNDTABLE_BIND:-127.0.0.1}:${API_PORT:-4000}:4000"');
  expect(service('worker')).not.toContain('ports:');
});
