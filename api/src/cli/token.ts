/**
 * Prints a signed development token:
 *   npm run token -- --sub alice --plan plus --region JP --age adult
 */
import { parseArgs } from 'node:util';
import { signDevToken } from '../auth/jwt';
import { loadConfig } from '../config/env';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    plan: { type: 'string', default: 'free' },
    region: { type: 'string' },
    age: { type: 'string' },
    'parental-group-chats': { type: 'string' },
    expires: { type: 'string', default: '12h' },
  },
});

async function main() {
  const config = loadConfig();
  if (!values.sub) throw new Error('usage: npm run token -- --sub <id> [--plan free|go|plus|pro] [--region JP] [--age adult|minor]');
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
