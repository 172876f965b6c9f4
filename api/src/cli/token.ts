/**
 * Prints a signed development token:
 *   npm run token -- --sub alice --plan plus --region JP --age adult
 */
import { parseArgs } from 'node:util';
import { signDevToken } from '../auth/jwt';
import { loadConfig } from '../config/env';

const USAGE = `usage: npm run token -- --sub <id> [options]

Prints a token signed with the development secret of the data folder (or JWT_SECRET),
for a made-up user of the identity provider.

  --sub <id>                      the user's id at the identity provider (required)
  --plan free|go|plus|pro         the plan claim (default free)
  --region <CC>                   ISO 3166-1 alpha-2 region, e.g. JP (default: none)
  --age adult|minor               the age band (default: unknown, treated like a minor)
  --parental-group-chats false    a parent turned group chats off (minors)
  --expires <duration>            lifetime, e.g. 30m, 12h (default 12h; at most JWT_MAX_TTL_SECONDS)
  -h, --help                      this text

Example: TOKEN=$(npm run --silent token -- --sub alice --plan plus --region JP --age adult)`;

function options() {
  try {
    return parseArgs({
      options: {
        sub: { type: 'string' },
        plan: { type: 'string', default: 'free' },
        region: { type: 'string' },
        age: { type: 'string' },
        'parental-group-chats': { type: 'string' },
        expires: { type: 'string', default: '12h' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\n${USAGE}`);
  }
}

async function main() {
  const values = options();
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const config = loadConfig();
  if (!values.sub) throw new Error(USAGE);
  if (!config.auth.hs256Secret) throw new Error('token signing needs JWT_SECRET (HS256)');
  const token = await signDevToken(config.auth.hs256Secret, {
    sub: values.sub,
    plan: values.plan as 'free',
    region: values.region,
    age: values.age as 'adult' | 'minor' | undefined,
    parentalGroupChats: values['parental-group-chats'] === undefined ? undefined : values['parental-group-chats'] === 'true',
    expiresIn: values.expires,
  });
  const { iat, exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { iat: number; exp: number };
  if (exp - iat > config.auth.maxTtlSeconds) {
    throw new Error(`--expires ${values.expires} is longer than JWT_MAX_TTL_SECONDS (${config.auth.maxTtlSeconds} s): the service would refuse the token`);
  }
  process.stdout.write(token + '\n');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
