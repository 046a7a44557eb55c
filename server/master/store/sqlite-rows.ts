/**
 * Multi-row INSERTs for the SQLite store: a batch of rows is written with a few
 * statements of 2^k rows each rather than one statement step per row.
 */
import type Database from 'better-sqlite3';
import type { EncodedValue } from './store.js';

/**
 * Rows per multi-row INSERT: statements of 2^k rows for k = 0..ROWS_LOG2 (64 rows, well
 * under SQLite's limit of bound variables). A batch of n rows takes about n / 64 + log2(64)
 * statement steps: one step per row costs about twice as much per row.
 */
export const ROWS_LOG2 = 6;

/** A value bound to a `?` of the row INSERTs. */
export type Bindable = number | EncodedValue | null;

/** Statements inserting 1, 2, 4, .. 2^ROWS_LOG2 rows of `row` (e.g. `(?, ?, ?)`). */
export function prepareRowInserts(
  db: Database.Database,
  head: string,
  row: string,
): Database.Statement<Bindable[]>[] {
  const statements: Database.Statement<Bindable[]>[] = [];
  for (let k = 0; k <= ROWS_LOG2; k++) {
    statements.push(
      db.prepare<Bindable[]>(
        `${head} VALUES ${Array<string>(1 << k)
          .fill(row)
          .join(', ')}`,
      ),
    );
  }
  return statements;
}

/**
 * Inserts the rows of `values` (flat: `width` values per row, in column order) with the
 * fewest statements of {@link prepareRowInserts}. (Spread arguments bind faster than one
 * array argument in better-sqlite3.)
 */
export function insertRows(
  statements: readonly Database.Statement<Bindable[]>[],
  values: readonly Bindable[],
  width: number,
): void {
  const rows = values.length / width;
  let at = 0;
  for (let k = statements.length - 1; k >= 0; k--) {
    const n = 1 << k;
    const statement = statements[k]!;
    for (; rows - at >= n; at += n)
      statement.run(...values.slice(at * width, (at + n) * width));
  }
}

/** better-sqlite3 returns BLOBs as Buffers; callers get plain Uint8Array views. */
export function fromSql(value: EncodedValue): EncodedValue {
  return typeof value === 'string'
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
