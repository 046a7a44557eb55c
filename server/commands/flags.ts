/** The command line's flags, each value validated with zod (names in options.ts). */
import * as z from 'zod';
import { PostgresUrl } from '../master/store/postgres/postgres-url.js';
import { SANDBOX_MODES } from '../worker/sandbox/modes.js';
import { parseDuration } from '../master/retention.js';

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${name} must be a whole number`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `--${name} must be at least ${min}`)
        .max(max, `--${name} must be at most ${max}`),
    );

/** Every flag, validated. Unknown flags are refused by parseArgs (strict). */
export const Flags = z.object({
  host: z.string().min(1).optional(),
  port: int('port', 0, 65_535).optional(),
  data: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  store: z
    .union([z.enum(['sqlite', 'memory']), PostgresUrl], {
      error: '--store must be sqlite, memory or postgres://USER@HOST:PORT/DB',
    })
    .optional(),
  fsync: z
    .enum(['normal', 'full'], { error: '--fsync must be normal or full' })
    .optional(),
  retain: z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message:
            '--retain must be a duration like 7d, 12h, 30m or 90s (at most 3650d)',
        });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  'heartbeat-ms': int('heartbeat-ms', 50, 3_600_000).optional(),
  'max-connections-per-address': int(
    'max-connections-per-address',
    1,
    1_000_000,
  ).optional(),
  'max-handshakes-per-address': int(
    'max-handshakes-per-address',
    1,
    1_000_000,
  ).optional(),
  'handshake-ms': int('handshake-ms', 100, 600_000).optional(),
  'tls-cert': z.string().min(1).max(4096).optional(),
  'tls-key': z.string().min(1).max(4096).optional(),
  'trust-proxy': z.string().min(1).max(4096).optional(),
  'allowed-origins': z.string().min(1).max(4096).optional(),
  'allowed-hosts': z.string().min(1).max(4096).optional(),
  'serve-source-maps': z.boolean().optional(),
  'distinct-addresses': z
    .enum(['on', 'off'], { error: '--distinct-addresses must be on or off' })
    .optional(),
  identity: z.string().min(1).max(4096).optional(),
  'log-level': z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional(),
  threads: int('threads', 1, 256).optional(),
  name: z.string().min(1).max(100).optional(),
  description: z
    .string()
    .max(1_000, '--description must be at most 1000 characters')
    .optional(),
  window: int('window', 1, 100_000).optional(),
  'memory-mb': int('memory-mb', 16, 65_536).optional(),
  cpu: int('cpu', 1, 100).optional(),
  sandbox: z
    .enum(SANDBOX_MODES, {
      error: '--sandbox must be auto, bwrap, permission or none',
    })
    .optional(),
  url: z
    .url({ error: '--url must be a URL like http://127.0.0.1:8080' })
    .optional(),
  inputs: z.string().min(1).optional(),
  timeout: int('timeout', 50, 7 * 24 * 3_600_000).optional(),
  'max-attempts': int('max-attempts', 1, 100).optional(),
  replicas: int('replicas', 1, 16).optional(),
  priority: int('priority', 0, 100).optional(),
  wait: z.boolean().optional(),
  'no-backups': z.boolean().optional(),
  out: z.string().min(1).optional(),
  once: z.boolean().optional(),
  help: z.boolean().optional(),
});
export type Flags = z.infer<typeof Flags>;
