/** The command line's flags as parseArgs reads them; kept apart from their zod schema
 * (flags.ts) so that `colony help` loads no zod. */
import type { ParseArgsConfig } from 'node:util';

/** What parseArgs accepts; it refuses any other flag (strict). */
export const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  token: { type: 'string' },
  store: { type: 'string' },
  fsync: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'max-handshakes-per-address': { type: 'string' },
  'handshake-ms': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'trust-proxy': { type: 'string' },
  'log-level': { type: 'string' },
  threads: { type: 'string' },
  name: { type: 'string' },
  window: { type: 'string' },
  'memory-mb': { type: 'string' },
  sandbox: { type: 'string' },
  url: { type: 'string' },
  inputs: { type: 'string' },
  timeout: { type: 'string' },
  'max-attempts': { type: 'string' },
  replicas: { type: 'string' },
  priority: { type: 'string' },
  wait: { type: 'boolean' },
  out: { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];
