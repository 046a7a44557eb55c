/**
 * Deleting a purged job's rows from the SQLite file in small steps, and giving the freed
 * pages back to the file system (incremental vacuum), without stalling the event loop:
 * each step runs for at most {@link STEP_MS} and the next one waits for a later turn, so
 * that sockets, timers and the group commit run in between.
 *
 * A purge marks the job row `purging` first (one statement), so that a master killed
 * halfway finishes the job at its next start; the row stays afterwards as a `purged`
 * tombstone of a few bytes, which keeps its jid and id from ever being given again.
 */
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import type { PurgeReport } from './store.js';

/**
 * Time a step aims to stay under, in ms: another statement runs only if the last one,
 * once more, would still fit. The target for the event loop is 50 ms.
 */
const STEP_MS = 10;
/**
 * Rows deleted per statement (a chunk row of inputs is kilobytes; results are small):
 * measured at a few ms each on a quiet machine, tens on one loaded 10x.
 */
const RESULT_ROWS = 500;
const INPUT_ROWS = 8;
/** Pages given back per incremental_vacuum statement (1 MB of 4 KB pages). */
const VACUUM_PAGES = 256;

export const PURGING = 'purging';
export const PURGED = 'purged';

/** Deletes the rows of purged jobs, one job after another. */
export class SqlitePurger {
  readonly #db: Database.Database;
  readonly #markPurging;
  readonly #markPurged;
  readonly #deleteResults;
  readonly #deleteInputs;
  readonly #deleteModule;
  /** The purges in order: each starts when the one before it ended. */
  #tail: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#markPurging = db.prepare<[number]>(
      `UPDATE jobs SET state = '${PURGING}', spec = '{}' WHERE jid = ?`,
    );
    this.#markPurged = db.prepare<[number]>(
      `UPDATE jobs SET state = '${PURGED}' WHERE jid = ?`,
    );
    this.#deleteResults = db.prepare<[number, number, number]>(
      `DELETE FROM results WHERE jid = ? AND seq IN
         (SELECT seq FROM results WHERE jid = ? ORDER BY seq LIMIT ?)`,
    );
    this.#deleteInputs = db.prepare<[number, number, number]>(
      `DELETE FROM inputs WHERE jid = ? AND first IN
         (SELECT first FROM inputs WHERE jid = ? ORDER BY first LIMIT ?)`,
    );
    this.#deleteModule = db.prepare<[string]>(
      'DELETE FROM modules WHERE hash = ?',
    );
  }

  /**
   * Marks the job purged now (durable on return), deletes `moduleHash` now if given (no
   * other job uses it), then its rows in steps. Resolves when the rows are gone and the
   * space given back, or when the store closed first (the next start finishes it).
   */
  purge(jid: number, moduleHash: string | undefined): Promise<PurgeReport> {
    const start = performance.now();
    const cpu = process.cpuUsage();
    this.#db.transaction(() => {
      this.#markPurging.run(jid);
      if (moduleHash !== undefined) this.#deleteModule.run(moduleHash);
    })();
    const report = {
      steps: 1,
      longestStepMs: performance.now() - start,
      longestStepCpuMs: cpuMs(process.cpuUsage(cpu)),
    };
    return this.#queue(jid, report);
  }

  /** Deletes the rows of a job already marked `purging` (after a restart). */
  resume(jid: number): Promise<PurgeReport> {
    return this.#queue(jid, {
      steps: 0,
      longestStepMs: 0,
      longestStepCpuMs: 0,
    });
  }

  #queue(jid: number, report: PurgeReport): Promise<PurgeReport> {
    const run = this.#tail.then(async () => {
      await this.#deleteRows(jid, report);
      return report;
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Stops between steps (the store is closing); what is left stays marked. */
  stop(): void {
    this.#stopped = true;
  }

  async #deleteRows(jid: number, report: PurgeReport): Promise<void> {
    const steps: (() => boolean)[] = [
      () => this.#deleteResults.run(jid, jid, RESULT_ROWS).changes > 0,
      () => this.#deleteInputs.run(jid, jid, INPUT_ROWS).changes > 0,
    ];
    for (const step of steps) if (!(await this.#inSteps(step, report))) return;
    if (this.#stopped) return;
    this.#markPurged.run(jid);
    await this.#inSteps(() => this.#vacuumSome(), report);
  }

  /**
   * Runs `work` (true while there is more) until it is done, at most STEP_MS at a time,
   * yielding to the event loop in between. False if stopped first.
   */
  async #inSteps(work: () => boolean, report: PurgeReport): Promise<boolean> {
    for (;;) {
      if (this.#stopped) return false;
      const start = performance.now();
      const cpu = process.cpuUsage();
      let more = true;
      for (let last = 0, now = start; more && now - start + last < STEP_MS;) {
        more = work();
        const done = performance.now();
        last = done - now;
        now = done;
      }
      report.steps++;
      report.longestStepMs = Math.max(
        report.longestStepMs,
        performance.now() - start,
      );
      report.longestStepCpuMs = Math.max(
        report.longestStepCpuMs,
        cpuMs(process.cpuUsage(cpu)),
      );
      if (!more) return true;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Gives back some free pages; false once there are none (or none can go). */
  #vacuumSome(): boolean {
    const free = this.#freePages();
    if (free > 0) {
      this.#db.pragma(`incremental_vacuum(${VACUUM_PAGES})`);
      // A file not in incremental mode frees nothing: stop rather than spin.
      if (this.#freePages() < free) return true;
    }
    // The file shrinks only once the WAL holding the truncation is checkpointed;
    // TRUNCATE also empties the WAL (the master is the file's only connection).
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return false;
  }

  #freePages(): number {
    return this.#db.pragma('freelist_count', { simple: true }) as number;
  }
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1_000;
}
