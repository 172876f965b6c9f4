import pino, { Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'roundtable' }, redact: ['req.headers.authorization', '*.authorization', '*.token'] });
}
