/**
 * Creates a staff account for the console:
 *   npm run staff:create -- --email alice@example.com --role admin|moderator
 * The password comes from --password, else STAFF_PASSWORD, else a prompt on a terminal
 * (not echoed, asked twice). Works beside a running `npm start` on the embedded database.
 */
import { parseArgs } from 'node:util';
import { StaffService, staffInputProblems } from '../admin/staff.service';
import { ConfigError, loadConfig } from '../config/env';
import { withCliDatabase } from '../db/cli-database';
import { createLogger } from '../ops/logger';

const USAGE = 'usage: npm run staff:create -- --email <email> --role admin|moderator [--password <password>]';

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  let input = '';
  return new Promise((resolve, reject) => {
    const finish = (err: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(input);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n' || c === '\u0004') return finish(null);
        if (c === '\u0003') return finish(new Error('cancelled'));
        if (c === '\u007f' || c === '\b') input = input.slice(0, -1);
        else input += c;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPassword(fromArgs: string | undefined): Promise<string> {
  if (fromArgs !== undefined) return fromArgs;
  if (process.env.STAFF_PASSWORD) return process.env.STAFF_PASSWORD;
  if (!process.stdin.isTTY) throw new Error('no password: pass --password, set STAFF_PASSWORD, or run on a terminal to be asked');
  const first = await promptHidden('Password: ');
  const again = await promptHidden('Password (again): ');
  if (first !== again) throw new Error('the passwords do not match');
  return first;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } } });
  if (!values.email || !values.role) throw new Error(USAGE);
  const role = values.role.toLowerCase();
  // Email and role are checked before asking for a password or touching the database.
  const early = staffInputProblems({ email: values.email, role, password: 'x'.repeat(64) });
  if (early.length) throw new Error(early.join('\n'));
  const password = await readPassword(values.password);
  const problems = staffInputProblems({ email: values.email, role, password });
  if (problems.length) throw new Error(problems.join('\n'));

  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn');
  const staff = await withCliDatabase(config, log, (db) =>
    new StaffService(db, config.staff).create({ email: values.email!, role, password }, { actorId: null, actorEmail: 'cli:staff-create' }),
  );
  console.log(`created ${staff.role} ${staff.email} (${staff.id})`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.message : err);
  process.exit(1);
});
