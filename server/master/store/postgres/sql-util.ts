/**
 * Small pieces shared by the PostgreSQL store: transactions, the database clock in
 * milliseconds, and encoded values split over a text and a bytea column.
 */
import type pg from 'pg';
import type { JobId } from '../../scheduler/types.js';
import type { EncodedValue } from '../store.js';

/** Milliseconds since the epoch by the database's clock (all masters share it). */
export const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Rows per statement when inserting tasks: bounds one message's size. */
export const INSERT_CHUNK = 5_000;

/**
 * Runs `fn` in one transaction on one pooled connection; rolls back on any error.
 * `begin` may carry `SET LOCAL`s after the BEGIN (sent in the same message).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  // A connection cut while checked out (the server ended an idle transaction of a
  // paused master, a restart) emits 'error' here: the query fails and the connection
  // is discarded below, instead of the event crashing the master.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query(begin);
    const value = await fn(client);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** A value as the (text, bytes) pair of columns: exactly one is not null. */
export function splitValue(
  value: EncodedValue,
): [string | null, Uint8Array | null] {
  return typeof value === 'string' ? [value, null] : [null, value];
}

/** Splits values into two parallel arrays for `unnest($::text[], $::bytea[])`. */
export function splitValues(
  values: readonly EncodedValue[],
): [(string | null)[], (Buffer | null)[]] {
  const texts: (string | null)[] = [];
  const bytes: (Buffer | null)[] = [];
  for (const value of values) {
    if (typeof value === 'string') {
      texts.push(value);
      bytes.push(null);
    } else {
      texts.push(null);
      bytes.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  }
  return [texts, bytes];
}

/** The value of a (text, bytes) pair read back; bytes as a plain Uint8Array. */
export function joinValue(
  text: string | null,
  bytes: Buffer | null,
): EncodedValue {
  if (text !== null) return text;
  if (bytes !== null) return new Uint8Array(bytes);
  throw new Error('a stored value has neither text nor bytes');
}

/** int8 columns come back as strings: they fit a double for any count this store holds. */
export function toNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}

/** The integer keys of the given jobs (those that exist), in key order: lock order. */
export async function jobKeys(
  client: pg.PoolClient | pg.Pool,
  ids: readonly JobId[],
): Promise<Map<JobId, number>> {
  const { rows } = await client.query<{ id: JobId; jid: string }>(
    'SELECT id, jid FROM jobs WHERE id = ANY($1::text[]) ORDER BY jid',
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, Number(r.jid)]));
}
