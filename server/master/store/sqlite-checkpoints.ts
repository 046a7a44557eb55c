/**
 * Checkpoints of running tasks in the SQLite file: one row per task that has one, the
 * latest state only (written over). Rows are few (open tasks of long jobs that call
 * `ctx.checkpoint`) and go when their task's outcome is recorded, when their job ends,
 * and when it is purged.
 */
import type Database from 'better-sqlite3';
import type { EncodedValue } from './store.js';

/**
 * Added in schema version 5. A rowid table, not WITHOUT ROWID: a state may be up to
 * 16 MiB, and the (jid, idx) key then stays in a small index of its own.
 */
export const CHECKPOINTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS checkpoints (
  jid INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  state BLOB NOT NULL,
  UNIQUE (jid, idx)
);
`;

export class SqliteCheckpoints {
  readonly #put;
  readonly #get;
  readonly #dropOne;
  readonly #dropJob;
  readonly #indexes;

  constructor(db: Database.Database) {
    this.#put = db.prepare<[number, number, EncodedValue]>(
      `INSERT INTO checkpoints (jid, idx, state) VALUES (?, ?, ?)
       ON CONFLICT (jid, idx) DO UPDATE SET state = excluded.state`,
    );
    this.#get = db
      .prepare<[number, number], EncodedValue>(
        'SELECT state FROM checkpoints WHERE jid = ? AND idx = ?',
      )
      .pluck();
    this.#dropOne = db.prepare<[number, number]>(
      'DELETE FROM checkpoints WHERE jid = ? AND idx = ?',
    );
    this.#dropJob = db.prepare<[number]>(
      'DELETE FROM checkpoints WHERE jid = ?',
    );
    this.#indexes = db
      .prepare<[number], number>(
        'SELECT idx FROM checkpoints WHERE jid = ? ORDER BY idx',
      )
      .pluck();
  }

  /** Durable on return (its own statement, outside the group commit). */
  put(jid: number, index: number, state: EncodedValue): void {
    this.#put.run(jid, index, state);
  }

  get(jid: number, indices: readonly number[]): (EncodedValue | undefined)[] {
    return indices.map((i) => this.#get.get(jid, i));
  }

  drop(jid: number, index: number | undefined): void {
    if (index === undefined) this.#dropJob.run(jid);
    else this.#dropOne.run(jid, index);
  }

  /** Tasks of the job with a checkpoint, to restore the scheduler's view. */
  indexes(jid: number): number[] {
    return this.#indexes.all(jid);
  }
}
