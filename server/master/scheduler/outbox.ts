/**
 * Collects the commands of one `handle()` call. Cancels to one worker are merged into one
 * `cancel-leases` command, so that a worker gets one frame however many leases end; the
 * call's credits are merged into one `credit` command, one entry per volunteer, so that
 * the shell's ledger, counters and standings work per batch rather than per result.
 */
import type { FeedEvent, WorkerKind } from '../../../shared/protocol.js';
import type { Assignment, Command, Credit, Lease, WorkerId } from './types.js';

/** Entries of one call's `credit` command looked up by walking them, not by a map. */
const LIST_CREDITS = 8;

/** The commands of the `handle()` call in progress. */
export class Outbox {
  #commands: Command[] = [];
  readonly #cancels = new Map<WorkerId, Lease[]>();
  /** The credits of this call's `credit` command, once it has one. */
  #credits: Credit[] | undefined = undefined;
  /**
   * The latest entry of `#credits` per volunteer, once the call has more entries than a
   * look down the list is worth: a map cleared after every call (one task at a time,
   * every call) made V8 give it a new table each time, in the old generation where the
   * long-lived map's table is, and only a full collection took those back.
   */
  readonly #creditOf = new Map<string, Credit>();
  /** The entry credited last: a batch of one worker's results merges without a look-up. */
  #lastCredit: Credit | undefined = undefined;

  push(command: Command): void {
    this.#commands.push(command);
  }

  /**
   * Credits `tasks` recorded tasks and their busy time to a volunteer. Entries merge
   * when volunteer, kind and name all match, so the totals by kind stay exact.
   */
  credit(
    volunteer: string,
    kind: WorkerKind,
    name: string,
    tasks: number,
    busyMs: number,
  ): void {
    let entry = this.#lastCredit;
    if (!matches(entry, volunteer, kind, name)) {
      entry = this.#latestOf(volunteer);
      if (!matches(entry, volunteer, kind, name)) {
        entry = { volunteer, kind, name, tasks: 0, busyMs: 0 };
        if (this.#credits === undefined) {
          this.#credits = [];
          this.#commands.push({ type: 'credit', credits: this.#credits });
        }
        const credits = this.#credits;
        credits.push(entry);
        if (credits.length === LIST_CREDITS + 1) {
          // Just past the list's length: every entry so far goes to the map, latest
          // last; from then on each new one, once.
          for (const each of credits) this.#creditOf.set(each.volunteer, each);
        } else if (credits.length > LIST_CREDITS + 1) {
          this.#creditOf.set(volunteer, entry);
        }
      }
      this.#lastCredit = entry;
    }
    entry.tasks += tasks;
    entry.busyMs += busyMs;
  }

  /** The latest entry of `#credits` for `volunteer`, if any. */
  #latestOf(volunteer: string): Credit | undefined {
    const credits = this.#credits;
    if (credits === undefined) return undefined;
    if (credits.length > LIST_CREDITS) return this.#creditOf.get(volunteer);
    for (let k = credits.length - 1; k >= 0; k--)
      if (credits[k]!.volunteer === volunteer) return credits[k];
    return undefined;
  }

  cancel(workerId: WorkerId, lease: Lease): void {
    const leases = this.#cancels.get(workerId);
    if (leases !== undefined) {
      leases.push(lease);
      return;
    }
    const fresh = [lease];
    this.#cancels.set(workerId, fresh);
    this.#commands.push({ type: 'cancel-leases', workerId, leases: fresh });
  }

  /** Sends `tasks` to a worker, in the `assign` it already got in this call if any. */
  assign(workerId: WorkerId, tasks: Assignment[]): void {
    for (const c of this.#commands) {
      if (c.type === 'assign' && c.workerId === workerId) {
        c.tasks.push(...tasks);
        return;
      }
    }
    this.#commands.push({ type: 'assign', workerId, tasks });
  }

  feed(at: number, kind: FeedEvent['kind'], text: string): void {
    this.#commands.push({ type: 'feed', event: { at, kind, text } });
  }

  /** Returns the commands so far and starts afresh. */
  take(): Command[] {
    const commands = this.#commands;
    this.#commands = [];
    // The lease arrays went out with their commands; the map itself is reused.
    if (this.#cancels.size > 0) this.#cancels.clear();
    if (this.#credits !== undefined) {
      this.#credits = undefined;
      this.#lastCredit = undefined;
      if (this.#creditOf.size > 0) this.#creditOf.clear();
    }
    return commands;
  }
}

function matches(
  entry: Credit | undefined,
  volunteer: string,
  kind: WorkerKind,
  name: string,
): entry is Credit {
  return (
    entry !== undefined &&
    entry.volunteer === volunteer &&
    entry.kind === kind &&
    entry.name === name
  );
}

/** Text of the dashboard feed: short, human-readable lines. */
export const feedText = {
  joined: (name: string, kind: string, slots: number): string =>
    `worker ${name} (${kind}, ${plural(slots, 'slot')}) joined`,
  left: (name: string, clean: boolean): string =>
    clean ? `worker ${name} left` : `worker ${name} dropped`,
  reassigned: (count: number, name: string, why: string): string =>
    `${plural(count, 'task')} of worker ${name} reassigned (${why})`,
  failed: (job: string, index: number, error: string, before = 0): string =>
    `task ${index} of job ${job} failed: ${clip(error)}` +
    (before > 0 ? `; ${before} more failed since the last one shown` : ''),
  submitted: (job: string, tasks: number, sealed: boolean): string =>
    `job ${job} submitted (${plural(tasks, 'task')}${sealed ? '' : ', open'})`,
  completed: (job: string, done: number, failed: number): string =>
    `job ${job} completed (${done} done, ${failed} failed)`,
  cancelled: (job: string): string => `job ${job} cancelled`,
  backup: (job: string, count: number): string =>
    `${plural(count, 'backup copy', 'backup copies')} of stragglers of job ${job} started`,
  resumed: (job: string, index: number, name: string): string =>
    `task ${index} of job ${job} resumes from its checkpoint on worker ${name}`,
};

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Feed lines stay one line long; the full error is in the job's results. */
function clip(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
