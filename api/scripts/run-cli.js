#!/usr/bin/env node
/**
 * Runs one of the compiled CLIs (dist/api/src/cli/<name>.js) with the arguments given, as
 * `npm run token`, `npm run staff:create`, `npm run migration:run` and `npm run schema:print`
 * do. The API is compiled only when dist/ is missing or older than a source file: a CLI run
 * beside a built tree starts at once instead of recompiling the whole API every time.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
/** What tsconfig.build.json compiles, and the settings that change its output. */
const SOURCES = ['api/src', 'migrations', 'bench', 'tests/support/fake-openai.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newest(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return file.endsWith('.test.ts') ? 0 : stat.mtimeMs;
  return fs.readdirSync(file).reduce((m, name) => Math.max(m, newest(path.join(file, name))), 0);
}

const [name, ...args] = process.argv.slice(2);
const cli = path.join(ROOT, 'dist/api/src/cli', `${name}.js`);
if (!name || !fs.existsSync(path.join(ROOT, 'api/src/cli', `${name}.ts`))) {
  console.error(`usage: node api/scripts/run-cli.js <${fs.readdirSync(path.join(ROOT, 'api/src/cli')).map((f) => f.replace(/\.ts$/, '')).join('|')}> [options]`);
  process.exit(2);
}
const built = fs.existsSync(cli) ? fs.statSync(cli).mtimeMs : 0;
if (built === 0 || SOURCES.some((s) => newest(path.join(ROOT, s)) > built)) {
  console.error('compiling the API (its sources changed since the last build)…');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  // tsc leaves unchanged outputs alone: mark this build as newer than the sources it saw.
  const now = new Date();
  fs.utimesSync(cli, now, now);
}
const run = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
