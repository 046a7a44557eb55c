/**
 * Every volunteer's committed totals in memory, and the reads of them: sorted pages and
 * a volunteer's rank. Both stores answer from here. The SQLite store keeps its table
 * without indexes on the totals, which change with every commit (an index on each would
 * rewrite one more page per commit, in every commit, for reads that come every few
 * seconds); it loads the table here at open and applies each commit's changes once it
 * is written. About 200 bytes per volunteer ever seen.
 */
import type {
  VolunteerPage,
  VolunteerQuery,
  VolunteerSummary,
} from '../../../shared/volunteers.js';
import type { LedgerDelta, VolunteerStanding } from './volunteer-deltas.js';

type Order = (a: VolunteerSummary, b: VolunteerSummary) => number;
const byId: Order = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
/** The orders of {@link VolunteerQuery.sort}: descending, ties by id (a stable order). */
const ORDER: Record<VolunteerQuery['sort'], Order> = {
  tasks: (a, b) => b.tasks - a.tasks || byId(a, b),
  cpu: (a, b) => b.busyMs - a.busyMs || byId(a, b),
  lastSeen: (a, b) => b.lastSeen - a.lastSeen || byId(a, b),
};

export class VolunteerRows {
  readonly #rows = new Map<string, VolunteerSummary>();
  /** Every volunteer's tasks, ascending; rebuilt on the first rank after a change. */
  #sortedTasks: Float64Array | null = null;

  /** Adds a row as stored (loading a file). */
  load(row: VolunteerSummary): void {
    this.#rows.set(row.id, row);
    this.#sortedTasks = null;
  }

  /** Applies one commit's merged changes (as the SQLite upsert does). */
  apply(deltas: readonly LedgerDelta[]): void {
    if (deltas.length === 0) return;
    this.#sortedTasks = null;
    for (const d of deltas) {
      const row = this.#rows.get(d.id);
      if (row === undefined) {
        this.#rows.set(d.id, {
          id: d.id,
          name: d.name,
          kind: d.kind,
          tasks: d.tasks,
          busyMs: d.busyMs,
          firstSeen: d.firstAt,
          lastSeen: d.lastAt,
        });
        continue;
      }
      row.name = d.name;
      row.kind = d.kind;
      row.tasks += d.tasks;
      row.busyMs += d.busyMs;
      row.lastSeen = Math.max(row.lastSeen, d.lastAt);
    }
  }

  page(query: VolunteerQuery): VolunteerPage {
    const order = ORDER[query.sort];
    const count = query.offset + query.limit;
    const top =
      count >= this.#rows.size
        ? [...this.#rows.values()].sort(order)
        : firstInOrder(this.#rows.values(), order, count);
    return {
      volunteers: top.slice(query.offset).map((v) => ({ ...v })),
      total: this.#rows.size,
    };
  }

  standing(id: string): VolunteerStanding {
    const me = this.#rows.get(id);
    const total = this.#rows.size;
    if (me === undefined)
      return { tasks: 0, busyMs: 0, rank: total + 1, volunteers: total + 1 };
    return {
      tasks: me.tasks,
      busyMs: me.busyMs,
      rank: this.#countAbove(me.tasks) + 1,
      volunteers: total,
    };
  }

  /**
   * How many volunteers have more tasks than `tasks`. Standing frames go out in bursts
   * (many volunteers in one turn, see standings.ts): one sort serves the whole burst.
   */
  #countAbove(tasks: number): number {
    let sorted = this.#sortedTasks;
    if (sorted === null) {
      sorted = new Float64Array(this.#rows.size);
      let i = 0;
      for (const row of this.#rows.values()) sorted[i++] = row.tasks;
      sorted.sort();
      this.#sortedTasks = sorted;
    }
    // The first index holding more than `tasks`.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= tasks) lo = mid + 1;
      else hi = mid;
    }
    return sorted.length - lo;
  }
}

/**
 * The first `count` rows in `order`, sorted: a bounded insertion, so that the top of a
 * large ledger costs one pass rather than a sort of every row.
 */
function firstInOrder(
  rows: Iterable<VolunteerSummary>,
  order: Order,
  count: number,
): VolunteerSummary[] {
  const top: VolunteerSummary[] = [];
  if (count <= 0) return top;
  for (const row of rows) {
    if (top.length === count && order(row, top[count - 1]!) >= 0) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order(top[mid]!, row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, row);
    if (top.length > count) top.pop();
  }
  return top;
}
