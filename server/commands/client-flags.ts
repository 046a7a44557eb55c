/**
 * The flags of the commands that only talk to a master (status, results, cancel,
 * delete), checked without loading zod: for these short commands the schema's load
 * is a large part of the start. Only values the full schema (flags.ts) surely accepts
 * pass here; anything else returns null and goes to the schema, which gives the same
 * verdict and message as ever.
 */
import type { Flags } from './flags.js';

const LOG_LEVELS = new Set([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]);

function plainUrl(text: string): boolean {
  if (!/^https?:\/\/\S+$/.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

const CHECKS: Record<string, (value: unknown) => boolean> = {
  url: (v) => typeof v === 'string' && plainUrl(v),
  token: (v) => typeof v === 'string' && v.length > 0,
  data: (v) => typeof v === 'string' && v.length > 0,
  out: (v) => typeof v === 'string' && v.length > 0,
  'log-level': (v) => typeof v === 'string' && LOG_LEVELS.has(v),
};

/** The flags, if every one is a client flag with a value that is surely valid. */
export function clientFlags(values: Record<string, unknown>): Flags | null {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const check = CHECKS[key];
    if (!check?.(value)) return null;
  }
  return values as Flags;
}
