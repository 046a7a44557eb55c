/**
 * Structured logs (pino) on stderr, so that stdout stays for what the user asked for
 * (URLs, tables, results). The token is never logged: redact it wherever it could appear.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(
  name: string,
  level: string = process.env.COLONY_LOG_LEVEL ?? 'info',
): Logger {
  return pino(
    {
      name,
      level,
      redact: ['token', 'headers.authorization', '*.token'],
      base: { pid: process.pid },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}
