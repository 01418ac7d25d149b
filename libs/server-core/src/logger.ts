import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; never log tokens, secrets or message bodies. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token', '*.token'], remove: true },
  });
}
