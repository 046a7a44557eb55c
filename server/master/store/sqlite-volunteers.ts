/**
 * The volunteers' totals in the SQLite file (table `volunteers`, schema 5): changes are
 * queued per volunteer and written, one upsert each, in the store's group commit.
 */
import type Database from 'better-sqlite3';
import type { WorkerKind } from '../../../shared/protocol.js';
import type {
  VolunteerPage,
  VolunteerQuery,
  VolunteerSummary,
} from '../../../shared/volunteers.js';
import type { Credit } from '../scheduler/credit.js';
import {
  LedgerQueue,
  type VolunteerLedger,
  type VolunteerStanding,
} from './volunteer-ledger.js';

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
/** Descending, ties by id: a stable order for offset paging. */
const ORDER_BY: Record<VolunteerQuery['sort'], string> = {
  tasks: 'tasks DESC, id',
  cpu: 'busy_ms DESC, id',
  lastSeen: 'last_seen DESC, id',
};

export class SqliteVolunteers implements VolunteerLedger {
  readonly #queue = new LedgerQueue();
  readonly #upsert;
  readonly #pages;
  readonly #count;
  readonly #one;
  readonly #ahead;

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
    this.#pages = new Map(
      Object.entries(ORDER_BY).map(([sort, order]) => [
        sort,
        db
          .prepare<[number, number], Row>(
            `SELECT ${COLUMNS} FROM volunteers ORDER BY ${order} LIMIT ? OFFSET ?`,
          )
          .raw(),
      ]),
    );
    this.#count = db
      .prepare<[], number>('SELECT count(*) FROM volunteers')
      .pluck();
    this.#one = db
      .prepare<[string], Row>(`SELECT ${COLUMNS} FROM volunteers WHERE id = ?`)
      .raw();
    this.#ahead = db
      .prepare<[number], number>(
        'SELECT count(*) FROM volunteers WHERE tasks > ?',
      )
      .pluck();
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
    for (const d of this.#queue.take()) {
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

  page(query: VolunteerQuery): VolunteerPage {
    const rows = this.#pages.get(query.sort)?.all(query.limit, query.offset);
    return {
      volunteers: (rows ?? []).map(summaryOf),
      total: this.#count.get() ?? 0,
    };
  }

  standing(id: string): VolunteerStanding {
    const row = this.#one.get(id);
    const total = this.#count.get() ?? 0;
    if (row === undefined)
      return { tasks: 0, busyMs: 0, rank: total + 1, volunteers: total + 1 };
    const tasks = row[3];
    return {
      tasks,
      busyMs: row[4],
      rank: (this.#ahead.get(tasks) ?? 0) + 1,
      volunteers: total,
    };
  }
}

function summaryOf(row: Row): VolunteerSummary {
  const [id, name, kind, tasks, busyMs, firstSeen, lastSeen] = row;
  return {
    id,
    name,
    kind: kind === 'browser' ? 'browser' : 'node',
    tasks,
    busyMs,
    firstSeen,
    lastSeen,
  };
}
