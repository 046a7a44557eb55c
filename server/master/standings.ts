/**
 * `standing` frames: each connected worker hears what its volunteer has given so far and
 * its rank, once after `welcome` and then at most every `intervalMs` while its totals
 * change. Reads committed totals only, so the numbers never run ahead of the store.
 */
import type { Standing } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import type { Credit } from './scheduler/credit.js';
import type { WorkerId } from './scheduler/types.js';
import type { VolunteerLedger } from './store/volunteer-ledger.js';

export interface StandingsOptions {
  ledger: VolunteerLedger;
  /** Commits what is queued in the store (the ledger's writes with it). */
  commit(): Promise<void>;
  send(workerId: WorkerId, message: Standing): void;
  logger: Logger;
  /** Least time between two frames to one volunteer. @defaultValue 2 000 */
  intervalMs?: number;
}

export class Standings {
  readonly #options: StandingsOptions;
  readonly #intervalMs: number;
  readonly #workersOf = new Map<string, Set<WorkerId>>();
  readonly #volunteerOf = new Map<WorkerId, string>();
  /** Volunteers credited since the last frames went out. */
  #dirty = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: StandingsOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 2_000;
  }

  /** A worker of `volunteer` was welcomed: it hears its standing once committed. */
  joined(workerId: WorkerId, volunteer: string): void {
    this.#volunteerOf.set(workerId, volunteer);
    let workers = this.#workersOf.get(volunteer);
    if (workers === undefined) {
      workers = new Set();
      this.#workersOf.set(volunteer, workers);
    }
    workers.add(workerId);
    this.#afterCommit(() => this.#sendTo(workerId, volunteer));
  }

  left(workerId: WorkerId): void {
    const volunteer = this.#volunteerOf.get(workerId);
    if (volunteer === undefined) return;
    this.#volunteerOf.delete(workerId);
    const workers = this.#workersOf.get(volunteer);
    workers?.delete(workerId);
    if (workers?.size === 0) this.#workersOf.delete(volunteer);
  }

  credited(credits: readonly Credit[]): void {
    for (const { volunteer } of credits) {
      if (this.#workersOf.has(volunteer)) this.#dirty.add(volunteer);
    }
    if (this.#dirty.size === 0 || this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const dirty = this.#dirty;
      this.#dirty = new Set();
      this.#afterCommit(() => {
        for (const volunteer of dirty) {
          for (const workerId of this.#workersOf.get(volunteer) ?? [])
            this.#sendTo(workerId, volunteer);
        }
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #afterCommit(then: () => void): void {
    this.#options.commit().then(
      () => {
        if (!this.#closed) then();
      },
      (error: unknown) =>
        this.#options.logger.error({ err: error }, 'standing not sent'),
    );
  }

  #sendTo(workerId: WorkerId, volunteer: string): void {
    if (this.#volunteerOf.get(workerId) !== volunteer) return;
    const standing = this.#options.ledger.standing(volunteer);
    this.#options.send(workerId, { type: 'standing', volunteer, ...standing });
  }
}
