/**
 * The volunteers' totals (SPEC §14): name, kind, tasks, busy time, first and last seen.
 * Writes are queued and made durable by the store's next `commit()`, with the results
 * that earned them; reads see committed totals only.
 */
import type {
  VolunteerPage,
  VolunteerQuery,
} from '../../../shared/volunteers.js';
import type { WorkerKind } from '../../../shared/protocol.js';
import type { Credit } from '../scheduler/credit.js';
import type { LedgerDelta, VolunteerStanding } from './volunteer-deltas.js';
import { VolunteerRows } from './volunteer-rows.js';

export type { LedgerDelta, VolunteerStanding } from './volunteer-deltas.js';

export interface VolunteerLedger {
  /** A volunteer connected: created if new; its name and kind are updated. */
  seen(
    volunteer: { id: string; name: string; kind: WorkerKind },
    at: number,
  ): void;
  /** Adds recorded tasks (each credit may stand for several) to their volunteers' totals. */
  credit(credits: readonly Credit[], at: number): void;
  /** One page of volunteers in the order asked. */
  page(query: VolunteerQuery): VolunteerPage;
  /** The volunteer's totals and rank; a volunteer not (yet) kept has none and ranks last. */
  standing(id: string): VolunteerStanding;
}

/** Gathers the changes of one commit, merged per volunteer. */
export class LedgerQueue {
  #deltas = new Map<string, LedgerDelta>();

  get size(): number {
    return this.#deltas.size;
  }

  seen(
    volunteer: { id: string; name: string; kind: WorkerKind },
    at: number,
  ): void {
    this.#delta(volunteer.id, volunteer.name, volunteer.kind, at);
  }

  credit(credits: readonly Credit[], at: number): void {
    for (const c of credits) {
      const delta = this.#delta(c.volunteer, c.name, c.kind, at);
      delta.tasks += c.tasks;
      delta.busyMs += c.busyMs;
    }
  }

  /**
   * Puts back changes taken for a commit that was rolled back and will be tried again,
   * merged under anything queued since (whose name, kind and last seen are newer).
   */
  restore(deltas: readonly LedgerDelta[]): void {
    for (const old of deltas) {
      const now = this.#deltas.get(old.id);
      if (now === undefined) {
        this.#deltas.set(old.id, { ...old });
        continue;
      }
      now.tasks += old.tasks;
      now.busyMs += old.busyMs;
      now.firstAt = Math.min(now.firstAt, old.firstAt);
      now.lastAt = Math.max(now.lastAt, old.lastAt);
    }
  }

  /** Takes everything queued. */
  take(): LedgerDelta[] {
    const deltas = [...this.#deltas.values()];
    this.#deltas = new Map();
    return deltas;
  }

  #delta(id: string, name: string, kind: WorkerKind, at: number): LedgerDelta {
    let delta = this.#deltas.get(id);
    if (delta === undefined) {
      delta = { id, name, kind, tasks: 0, busyMs: 0, firstAt: at, lastAt: at };
      this.#deltas.set(id, delta);
    }
    // The latest name and kind win (a volunteer may rename itself or change runtime).
    delta.name = name;
    delta.kind = kind;
    delta.lastAt = Math.max(delta.lastAt, at);
    return delta;
  }
}

/** The ledger in memory (the memory store): the same contract as SQLite's. */
export class MemoryLedger implements VolunteerLedger {
  readonly #queue = new LedgerQueue();
  readonly #rows = new VolunteerRows();

  seen(
    volunteer: { id: string; name: string; kind: WorkerKind },
    at: number,
  ): void {
    this.#queue.seen(volunteer, at);
  }

  credit(credits: readonly Credit[], at: number): void {
    this.#queue.credit(credits, at);
  }

  /** Applies what is queued (the store's commit). */
  apply(): void {
    this.#rows.apply(this.#queue.take());
  }

  page(query: VolunteerQuery): VolunteerPage {
    return this.#rows.page(query);
  }

  standing(id: string): VolunteerStanding {
    return this.#rows.standing(id);
  }
}
