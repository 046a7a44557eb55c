/**
 * One thread as the executor tracks it: the slices handed to it, in the order it runs
 * them, and how far it has reported. The task runner answers in that order, so
 * outcomes are matched by walking the slices alongside them; anything else on the
 * thread's port (task code can post there) is ignored.
 */
import type { Lease } from '../protocol.js';
import type { JsonText } from '../json-text.js';
import { Status, type ThreadOutcomes } from '../task-runner.js';
import { TextReader } from './packed-texts.js';
import { emptyOutcomes, hasOutcomes, rangeOf, type Slice } from './slice.js';
import type { ThreadHandle } from './types.js';

export interface Thread {
  handle: ThreadHandle;
  /** Slices handed to the thread, in the order it runs them. */
  inflight: Slice[];
  /** Next task of `inflight[0]` whose outcome the thread has not reported. */
  cursor: number;
  /** Tasks handed to the thread and not reported yet. */
  unreported: number;
  /** Modules posted to the thread (when the executor delivers them). */
  modules: Set<string>;
  /** When the thread last reported (or was handed work while idle). */
  lastHeardAt: number;
  dead: boolean;
  /** Gets no more work; terminated once it has answered for what it holds. */
  retiring: boolean;
}

/** A task the thread holds: task `i` of `slice`. */
export interface HeldTask {
  slice: Slice;
  i: number;
}

/** The task the thread is running, and when the thread started it. */
export interface RunningTask extends HeldTask {
  startedAt: number;
}

export const newThread = (handle: ThreadHandle, now: number): Thread => ({
  handle,
  inflight: [],
  cursor: 0,
  unreported: 0,
  modules: new Set(),
  lastHeardAt: now,
  dead: false,
  retiring: false,
});

/** The first task handed to the thread and not reported yet that `match` accepts. */
export function findUnreported(
  thread: Thread,
  match: (lease: Lease) => boolean,
): HeldTask | null {
  const { inflight } = thread;
  for (let n = 0; n < inflight.length; n++) {
    const slice = inflight[n] as Slice;
    const { leases } = slice.batch;
    for (let i = n === 0 ? thread.cursor : slice.from; i < slice.to; i++)
      if (match(leases[i] as Lease)) return { slice, i };
  }
  return null;
}

/**
 * The task the thread runs now. With a shared slot it is exact, with the start the
 * thread wrote; without one it is the first unreported task (which may have finished
 * with its outcome not posted yet), started at the latest when the thread last spoke.
 * Either way the time counts from the thread starting the task, never from when it
 * was queued: a task is not blamed for the time it waited behind others.
 */
export function runningTask(thread: Thread): RunningTask | null {
  const slot = thread.handle.running;
  if (slot) {
    const lease = slot[0];
    if (lease === -1) return null;
    const held = findUnreported(thread, (l) => l === lease);
    return (
      held && { slice: held.slice, i: held.i, startedAt: slot[1] as number }
    );
  }
  const head = thread.inflight[0];
  return head
    ? { slice: head, i: thread.cursor, startedAt: thread.lastHeardAt }
    : null;
}

/** Adds a slice to what the thread runs. */
export function handTo(thread: Thread, slice: Slice, now: number): void {
  if (thread.unreported === 0) {
    thread.lastHeardAt = now;
    thread.cursor = slice.from;
  }
  thread.inflight.push(slice);
  thread.unreported += slice.to - slice.from;
}

/**
 * Settles the thread's next tasks with `message` (outcomes in the order it was given
 * the tasks), calling each slice's `onDone` once per message. `release(n)` is told of
 * settled tasks before any `onDone` that reports them, so that a listener sees them
 * no longer pending (the session sends at once when nothing is). Outcomes of
 * `cancelled` leases are dropped (and the leases forgotten). A message that does not
 * follow the order is ignored from the first mismatch on. An output sent as JSON text
 * (itself, or packed: packed-texts.ts) becomes what `asText` makes of it; null (not
 * JSON text) fails its task.
 */
export function settle(
  thread: Thread,
  message: ThreadOutcomes,
  cancelled: Set<Lease>,
  release: (count: number) => void,
  onMismatch: () => void,
  asText: (value: unknown) => JsonText | null,
): void {
  const { leases, status, values, busy } = message;
  let done = emptyOutcomes();
  let unreleased = 0;
  const texts = new TextReader(message);
  for (let k = 0; k < leases.length; k++) {
    const slice = thread.inflight[0];
    const lease = leases[k] as Lease;
    if (!slice || slice.batch.leases[thread.cursor] !== lease) {
      onMismatch();
      break;
    }
    thread.cursor++;
    thread.unreported--;
    unreleased++;
    // Read in order, a cancelled task's too: packed texts follow one another.
    const json = status[k] === Status.json ? texts.next(values[k]) : undefined;
    if (cancelled.size > 0 && cancelled.delete(lease)) {
      // cancelled: no result
    } else if (status[k] === Status.ok) {
      done.leases.push(lease);
      done.outputs.push(values[k]);
      if (busy) (done.busyMs ??= []).push(busy[k] ?? 0);
    } else if (status[k] === Status.json) {
      const text = asText(json);
      if (text) {
        done.leases.push(lease);
        done.outputs.push(text);
        if (busy) (done.busyMs ??= []).push(busy[k] ?? 0);
      } else {
        const error = 'the task thread sent an output that is not JSON text';
        done.failures.push({ lease, error, kind: 'error' });
      }
    } else if (status[k] === Status.error) {
      done.failures.push({ lease, error: String(values[k]), kind: 'error' });
    } else {
      // Status.skipped: its lease was over before it started. No result, but reported,
      // so that the session grants its credit again (else a worker whose queue outlived
      // its leases would wait for tasks forever).
      (done.skipped ??= []).push(lease);
    }
    if (thread.cursor === slice.to) {
      thread.inflight.shift();
      thread.cursor = thread.inflight[0]?.from ?? 0;
      release(unreleased);
      unreleased = 0;
      if (hasOutcomes(done)) slice.onDone(done);
      done = emptyOutcomes();
    }
  }
  if (unreleased > 0) release(unreleased);
  const slice = thread.inflight[0];
  if (slice && hasOutcomes(done)) slice.onDone(done);
}

/**
 * Empties a dead thread: the ranges of tasks it had not reported. Outcomes it had not
 * posted yet are lost with it.
 */
export function takeUnreported(thread: Thread): Slice[] {
  const { inflight, cursor } = thread;
  const ranges = inflight.map((slice, n) =>
    n === 0 ? rangeOf(slice, cursor, slice.to) : slice,
  );
  thread.inflight = [];
  thread.unreported = 0;
  thread.cursor = 0;
  return ranges;
}

/** Leases the thread holds unreported that are in `wanted` (all if null). */
export function unreportedIn(
  thread: Thread,
  wanted: Set<Lease> | null,
): Lease[] {
  const hit: Lease[] = [];
  findUnreported(thread, (lease) => {
    if (wanted === null || wanted.has(lease)) hit.push(lease);
    return false;
  });
  return hit;
}

const MAX_ERROR_CHARS = 4_000;

/** Reports the crash of the task a dead thread was running (already not pending). */
export function reportCrash(
  culprit: RunningTask,
  lease: Lease,
  reason: string,
): void {
  // A task that started past its lease was never really run for the master (which
  // has re-queued it): it gets no death against it.
  if (culprit.startedAt > culprit.slice.deadline) return;
  culprit.slice.onDone({
    leases: [],
    outputs: [],
    failures: [
      { lease, error: reason.slice(0, MAX_ERROR_CHARS), kind: 'crash' },
    ],
  });
}
