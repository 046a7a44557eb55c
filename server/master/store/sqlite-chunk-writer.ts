/**
 * Writes a job's inputs as chunk rows of the `inputs` table (schema in sqlite-schema.ts):
 * runs of consecutive texts share one row, so that a 1,000,000-task job is about 4,000
 * rows rather than 1,000,000.
 */
import type Database from 'better-sqlite3';
import type { EncodedValue } from './store.js';
import type { Bindable } from './sqlite-rows.js';
import { insertRows, prepareRowInserts, ROWS_LOG2 } from './sqlite-rows.js';

/** Inputs per chunk row at most. */
const CHUNK_INPUTS = 256;
/**
 * Text per chunk row at most, separators included, in UTF-16 code units (bytes, for
 * ASCII JSON). An input longer than this goes alone in its own row.
 */
const CHUNK_CHARS = 256 * 1024;
/** Values per chunk row: jid, first, count, value. */
const CHUNK_WIDTH = 4;
/** Chunk rows buffered before they are inserted: one statement of the widest kind. */
const CHUNK_ROWS_BUFFERED = 1 << ROWS_LOG2;

/** The multi-row INSERTs of chunk rows that a {@link ChunkWriter} writes with. */
export function prepareChunkInserts(
  db: Database.Database,
): Database.Statement<Bindable[]>[] {
  return prepareRowInserts(
    db,
    'INSERT INTO inputs (jid, first, count, value)',
    '(?, ?, ?, ?)',
  );
}

/**
 * Writes one job's inputs as chunk rows (inside the caller's transaction). Consecutive
 * texts share a row, at most CHUNK_INPUTS of them and CHUNK_CHARS of text, joined with
 * '\n'. Bytes, and a text that contains a raw '\n' (JSON.stringify never writes one, but
 * nothing stops a caller), go alone in a row of count 1, stored as they are. Inputs are
 * pushed in ascending task order; a gap (only in a migrated file) starts a new row, so a
 * row always holds consecutive tasks.
 */
export class ChunkWriter {
  readonly #statements: readonly Database.Statement<Bindable[]>[];
  readonly #jid: number;
  /** Finished rows not inserted yet, flat, CHUNK_WIDTH values each. */
  readonly #rows: Bindable[] = [];
  /** Texts of the open row: tasks #first, #first + 1, .. */
  readonly #texts: string[] = [];
  /** Length of the open row's texts joined, plus one. */
  #chars = 0;
  #first = 0;
  /** The task that continues the open row. */
  #next = -1;

  constructor(
    statements: readonly Database.Statement<Bindable[]>[],
    jid: number,
  ) {
    this.#statements = statements;
    this.#jid = jid;
  }

  push(index: number, value: EncodedValue): void {
    if (index !== this.#next) this.#closeRow();
    this.#next = index + 1;
    if (
      typeof value !== 'string' ||
      value.length > CHUNK_CHARS ||
      value.includes('\n')
    ) {
      this.#closeRow();
      this.#addRow(index, 1, value);
      return;
    }
    if (
      this.#texts.length === CHUNK_INPUTS ||
      this.#chars + value.length > CHUNK_CHARS
    )
      this.#closeRow();
    if (this.#texts.length === 0) this.#first = index;
    this.#texts.push(value);
    this.#chars += value.length + 1;
  }

  /** Writes what is left. */
  end(): void {
    this.#closeRow();
    insertRows(this.#statements, this.#rows, CHUNK_WIDTH);
    this.#rows.length = 0;
  }

  #closeRow(): void {
    const texts = this.#texts;
    if (texts.length === 0) return;
    this.#addRow(
      this.#first,
      texts.length,
      texts.length === 1 ? texts[0]! : texts.join('\n'),
    );
    texts.length = 0;
    this.#chars = 0;
  }

  #addRow(first: number, count: number, value: EncodedValue): void {
    const rows = this.#rows;
    rows.push(this.#jid, first, count, value);
    if (rows.length === CHUNK_ROWS_BUFFERED * CHUNK_WIDTH) {
      insertRows(this.#statements, rows, CHUNK_WIDTH);
      rows.length = 0;
    }
  }
}
