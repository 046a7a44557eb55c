/**
 * Transactions built before they begin, and retries of writes cut by the connection.
 * The pool's sessions end a transaction left idle for 2 s (a stopped master must not
 * hold its locks past the claim TTL); a transaction that built each statement's arrays
 * between statements sat idle that long whenever the master was starved of CPU, and a
 * submit then failed with HTTP 500. Here every statement is built first, and each is
 * sent as soon as the previous one answered, with nothing computed in between; a
 * transaction whose locks block nobody may allow itself longer.
 */
import type pg from 'pg';
import { inTransaction } from './sql-util.js';

export interface Statement {
  text: string;
  values?: unknown[];
}

/**
 * Runs `statements` (built) in one transaction, one after another on one connection;
 * `idleMs` raises the session's idle-in-transaction limit for this transaction only
 * (in the same message as BEGIN: never idle under the pool's limit). Returns each
 * statement's result; rolls back on any error.
 */
export function transaction(
  pool: pg.Pool,
  statements: readonly Statement[],
  idleMs?: number,
): Promise<pg.QueryResult[]> {
  return inTransaction(
    pool,
    async (client) => {
      const results: pg.QueryResult[] = [];
      for (const s of statements)
        results.push(await client.query(s.text, s.values));
      return results;
    },
    idleMs === undefined
      ? 'BEGIN'
      : `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.round(idleMs)}`,
  );
}

/** SQLSTATEs after which the same write may succeed on another connection. */
const TRANSIENT = new Set([
  '25P03', // idle_in_transaction_session_timeout
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** The connection was cut or the server gave up on the session: worth one more try. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string')
    return /terminat|ECONN|timeout/i.test(error.message);
  return TRANSIENT.has(code) || code.startsWith('08') || /^E[A-Z]+$/.test(code);
}

/** Tries of a write whose connection was cut before it could commit. */
const TRIES = 3;

/**
 * Runs `write` again when its connection was cut. A cut during COMMIT leaves it
 * unknown whether the write committed: `committed()` says so before each retry.
 */
export async function retryTransient<T>(
  write: () => Promise<T>,
  committed: () => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= TRIES || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      const done = await committed().catch(() => undefined);
      if (done !== undefined) return done;
    }
  }
}
