/**
 * Development signing secrets, random per data folder. Outside production, when
 * JWT_SECRET or STAFF_JWT_SECRET is unset, the service and the CLIs (`npm run token`,
 * `npm run staff:create`) use the secrets of `dev-secrets.json` in the data folder (the
 * folder holding the embedded PostgreSQL's), created on first use with the owner alone
 * allowed to read it. A secret published in the repository would let anyone who reaches
 * a development server mint tokens for it.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface DevSecrets {
  jwtSecret: string;
  staffJwtSecret: string;
}

/** Where the development secrets of the data folder live, given EMBEDDED_PG_DIR. */
export const devSecretsFile = (embeddedPgDir: string): string => path.join(path.dirname(path.resolve(embeddedPgDir)), 'dev-secrets.json');

const isSecrets = (v: unknown): v is DevSecrets => {
  const s = v as Partial<DevSecrets> | null;
  return typeof s?.jwtSecret === 'string' && s.jwtSecret.length >= 32 && typeof s.staffJwtSecret === 'string' && s.staffJwtSecret.length >= 32;
};

function read(file: string): DevSecrets {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isSecrets(parsed)) throw new Error(`${file} does not hold two secrets of 32+ characters: delete it to have new ones made`);
  return { jwtSecret: parsed.jwtSecret, staffJwtSecret: parsed.staffJwtSecret };
}

/**
 * The secrets in `file`, created if it does not exist. Creation is atomic (written aside,
 * then hard-linked into place, which fails if another process got there first), so
 * processes starting together all end up with the same secrets, and none reads half a file.
 */
export function readOrCreateDevSecrets(file: string): DevSecrets {
  try {
    return read(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const secrets: DevSecrets = { jwtSecret: randomBytes(32).toString('base64url'), staffJwtSecret: randomBytes(32).toString('base64url') };
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, file);
    return secrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return read(file);
  } finally {
    unlinkSync(aside);
  }
}
