/**
 * The service runs with the same node flags however it is started: `npm start`, the
 * Docker image, and the benchmarks that measure it (SERVICE_NODE_FLAGS).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../../bench/service-process';
import { ROOT } from '../support/build';

it('npm start, the Dockerfile and the benchmarks start the service with the same node flags', () => {
  const start = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  const cmd = readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8').match(/^CMD (\[.*\])$/m);
  expect(SERVICE_NODE_FLAGS.length).toBeGreaterThan(0);
  expect(start).toContain(`exec node ${SERVICE_NODE_FLAGS.join(' ')} dist/api/src/main.js`);
  expect(JSON.parse(cmd![1])).toEqual(['node', ...SERVICE_NODE_FLAGS, 'dist/api/src/main.js']);
});
