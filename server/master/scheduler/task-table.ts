/**
 * Per-job compact task state: a few bytes per task in typed arrays that grow with the
 * job, so that a 1,000,000-task job costs about 5 MB here and no per-task object. Fresh
 * tasks are a cursor over the index range; only re-queued tasks take a queue entry.
 */
import { IndexDeque } from './deque.js';
import { TaskMark } from './types.js';

/**
 * Where a task stands. Queued and Running are open; Done and Failed are terminal.
 * Elsewhere (cluster mode) is a task this master does not own: never dispatched here,
 * not in `counts` (kept in `elsewhere`), and treated as terminal by the queue logic.
 */
export const TaskState = {
  Queued: 0,
  Running: 1,
  Done: 2,
  Failed: 3,
  Elsewhere: 4,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** Tasks per state; their sum is the job's task count. */
export interface TaskCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
}

/** Saturation points of the narrow counters (options are clamped to stay below). */
export const MAX_SMALL_COUNT = 0xff;
export const MAX_DISPATCHES = 0xffff;

/**
 * Task states and counters of one job. `counts` is kept in step with the states by
 * {@link TaskTable.setState}, the only way a state changes.
 */
export class TaskTable {
  /** Tasks known so far: 0..size-1. */
  size = 0;
  /** Tasks at or past the cursor have never been dispatched (since the last restart). */
  cursor = 0;
  /** Tasks returned to the queue (lease lost, retry), served before fresh ones. Entries may be stale: check the state when popping. */
  readonly requeued = new IndexDeque();
  readonly counts: TaskCounts = { queued: 0, running: 0, done: 0, failed: 0 };
  /** Tasks in state Elsewhere: counts plus this is the size. */
  elsewhere = 0;
  #state: Uint8Array;
  #failures: Uint8Array;
  #deaths: Uint8Array;
  #dispatches: Uint16Array;
  #released = false;

  constructor(size: number, marks?: Uint8Array) {
    this.#state = new Uint8Array(size);
    this.#failures = new Uint8Array(size);
    this.#deaths = new Uint8Array(size);
    this.#dispatches = new Uint16Array(size);
    this.size = size;
    if (marks === undefined) {
      this.counts.queued = size;
      return;
    }
    for (let i = 0; i < size; i++) {
      const mark = marks[i] ?? TaskMark.Open;
      const state = markState(mark);
      this.#state[i] = state;
      this.#bump(state, 1);
    }
  }

  /** True once the per-task arrays were dropped (finished job; counts remain). */
  get released(): boolean {
    return this.#released;
  }

  /** Adds `count` tasks at the end that another master owns (cluster mode). */
  growElsewhere(count: number): void {
    const from = this.size;
    this.grow(count);
    for (let i = from; i < this.size; i++)
      this.setState(i, TaskState.Elsewhere);
  }

  /** Carries on the counts of a task's earlier owners (cluster mode). */
  restoreCounts(i: number, failures: number, deaths: number): void {
    at(this.#state, i);
    this.#failures[i] = Math.min(Math.max(failures, 0), MAX_SMALL_COUNT);
    this.#deaths[i] = Math.min(Math.max(deaths, 0), MAX_SMALL_COUNT);
  }

  /** Adds `count` fresh tasks at the end. */
  grow(count: number): void {
    this.#assertLive();
    const size = this.size + count;
    if (size > this.#state.length) {
      // Doubling keeps appends amortised O(1) per task.
      const capacity = Math.max(size, this.#state.length * 2, 16);
      this.#state = copyInto(new Uint8Array(capacity), this.#state);
      this.#failures = copyInto(new Uint8Array(capacity), this.#failures);
      this.#deaths = copyInto(new Uint8Array(capacity), this.#deaths);
      this.#dispatches = copyInto(new Uint16Array(capacity), this.#dispatches);
    }
    this.size = size;
    this.counts.queued += count;
  }

  state(i: number): TaskState {
    return at(this.#state, i) as TaskState;
  }

  isTerminal(i: number): boolean {
    return at(this.#state, i) >= TaskState.Done;
  }

  setState(i: number, state: TaskState): void {
    const old = at(this.#state, i) as TaskState;
    if (old === state) return;
    this.#bump(old, -1);
    this.#bump(state, 1);
    this.#state[i] = state;
  }

  failures(i: number): number {
    return at(this.#failures, i);
  }

  /** Counts one throw; returns the new total. */
  addFailure(i: number): number {
    const n = Math.min(at(this.#failures, i) + 1, MAX_SMALL_COUNT);
    this.#failures[i] = n;
    return n;
  }

  deaths(i: number): number {
    return at(this.#deaths, i);
  }

  /** Counts one killed worker thread; returns the new total. */
  addDeath(i: number): number {
    const n = Math.min(at(this.#deaths, i) + 1, MAX_SMALL_COUNT);
    this.#deaths[i] = n;
    return n;
  }

  dispatches(i: number): number {
    return at(this.#dispatches, i);
  }

  /** Counts one dispatch; returns the new total (the assignment's `attempt`). */
  addDispatch(i: number): number {
    const n = Math.min(at(this.#dispatches, i) + 1, MAX_DISPATCHES);
    this.#dispatches[i] = n;
    return n;
  }

  /** The next never-dispatched open task, or -1; skips terminal ones (restored jobs). */
  peekFresh(): number {
    while (this.cursor < this.size && this.isTerminal(this.cursor)) {
      this.cursor++;
    }
    return this.cursor < this.size ? this.cursor : -1;
  }

  /** Takes the task {@link TaskTable.peekFresh} names. */
  takeFresh(): number {
    const i = this.peekFresh();
    if (i >= 0) this.cursor++;
    return i;
  }

  /**
   * Drops the per-task arrays of a finished job, keeping the counts. Tasks still open
   * (a cancelled job) are counted as queued: none holds a lease any more.
   */
  release(): void {
    this.counts.queued += this.counts.running;
    this.counts.running = 0;
    this.#state = new Uint8Array(0);
    this.#failures = new Uint8Array(0);
    this.#deaths = new Uint8Array(0);
    this.#dispatches = new Uint16Array(0);
    this.requeued.clear();
    this.cursor = this.size;
    this.#released = true;
  }

  #bump(state: TaskState, delta: number): void {
    switch (state) {
      case TaskState.Queued:
        this.counts.queued += delta;
        break;
      case TaskState.Running:
        this.counts.running += delta;
        break;
      case TaskState.Done:
        this.counts.done += delta;
        break;
      case TaskState.Failed:
        this.counts.failed += delta;
        break;
      case TaskState.Elsewhere:
        this.elsewhere += delta;
        break;
    }
  }

  #assertLive(): void {
    if (this.#released) throw new Error('task table of a finished job');
  }
}

function markState(mark: number): TaskState {
  switch (mark) {
    case TaskMark.Done:
      return TaskState.Done;
    case TaskMark.Failed:
      return TaskState.Failed;
    case TaskMark.Elsewhere:
      return TaskState.Elsewhere;
    default:
      return TaskState.Queued;
  }
}

function at(array: Uint8Array | Uint16Array, i: number): number {
  const value = array[i];
  if (value === undefined) {
    throw new RangeError(`task ${i} out of range (${array.length})`);
  }
  return value;
}

function copyInto<T extends Uint8Array | Uint16Array>(to: T, from: T): T {
  to.set(from);
  return to;
}
