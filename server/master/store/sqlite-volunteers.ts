/**
 * The volunteers' totals in the SQLite file (table `volunteers`): changes are queued per
 * volunteer and written, one upsert each, in the store's group commit. Reads are served
 * from memory (volunteer-rows.ts): the table is loaded at open, and each commit's changes
 * are applied once the commit is written, so that reads see committed totals only.
 */
import type Database from 'better-sqlite3';
import type { WorkerKind } from '../../../shared/protocol.js';
import type {
  VolunteerPage,
  VolunteerQuery,
} from '../../../shared/volunteers.js';
import type { Credit } from '../scheduler/credit.js';
import {
  LedgerQueue,
  type LedgerDelta,
  type VolunteerLedger,
  type VolunteerStanding,
} from './volunteer-ledger.js';
import { VolunteerRows } from './volunteer-rows.js';

type Row = [
  id: string,
  name: string,
  kind: string,
  tasks: number,
  busyMs: number,
  firstSeen: number,
  lastSeen: number,
];

const COLUMNS = 'id, name, kind, tasks, busy_ms, first_seen, last_seen';

export class SqliteVolunteers implements VolunteerLedger {
  readonly #queue = new LedgerQueue();
  readonly #rows = new VolunteerRows();
  readonly #upsert;
  /** Changes written by the transaction in progress; applied once it commits. */
  #written: LedgerDelta[] = [];

  constructor(db: Database.Database) {
    this.#upsert = db.prepare<
      [string, string, string, number, number, number, number]
    >(
      `INSERT INTO volunteers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         name = excluded.name, kind = excluded.kind,
         tasks = tasks + excluded.tasks, busy_ms = busy_ms + excluded.busy_ms,
         last_seen = max(last_seen, excluded.last_seen)`,
    );
    const all = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM volunteers`).raw();
    for (const [
      id,
      name,
      kind,
      tasks,
      busyMs,
      firstSeen,
      lastSeen,
    ] of all.iterate())
      this.#rows.load({
        id,
        name,
        kind: kind === 'browser' ? 'browser' : 'node',
        tasks,
        busyMs,
        firstSeen,
        lastSeen,
      });
  }

  seen(
    volunteer: { id: string; name: string; kind: WorkerKind },
    at: number,
  ): void {
    this.#queue.seen(volunteer, at);
  }

  credit(credits: readonly Credit[], at: number): void {
    this.#queue.credit(credits, at);
  }

  hasQueued(): boolean {
    return this.#queue.size > 0;
  }

  /** Writes what is queued; called inside the store's commit transaction. */
  writeQueued(): void {
    const deltas = this.#queue.take();
    this.#written = deltas;
    for (const d of deltas) {
      this.#upsert.run(
        d.id,
        d.name,
        d.kind,
        d.tasks,
        d.busyMs,
        d.firstAt,
        d.lastAt,
      );
    }
  }

  /**
   * The transaction of the last {@link writeQueued} ended: committed, its changes become
   * readable; rolled back, they are queued again for the retry of its batch (`retry`),
   * or dropped with the rest of a batch that is given up.
   */
  settle(outcome: 'committed' | 'retry' | 'dropped'): void {
    const written = this.#written;
    this.#written = [];
    if (outcome === 'committed') this.#rows.apply(written);
    else if (outcome === 'retry') this.#queue.restore(written);
  }

  page(query: VolunteerQuery): VolunteerPage {
    return this.#rows.page(query);
  }

  standing(id: string): VolunteerStanding {
    return this.#rows.standing(id);
  }
}
