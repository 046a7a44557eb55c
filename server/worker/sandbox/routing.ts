/**
 * How the worker spreads batches over its sandboxed child's task threads (each has a
 * pipe of its own, thread-entry.ts) and what it makes of a thread's death. Batches are
 * split by the task time the threads measured, as the unsandboxed pool sizes its
 * batches: a slow job's tasks travel one by one to the thread holding the fewest tasks,
 * a tiny task's in one batch per thread.
 */
import type { BatchSizer } from '../../../shared/executor/batch-size.js';
import { pickTasks } from '../../../shared/executor/slice.js';
import { inputsSpan } from '../../../shared/tasks-text.js';
import {
  LIMITS,
  type TaskBatch,
  type TaskFailure,
} from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import type { HeldBatch, HeldBatches, OnDone } from './held.js';

/** `batch` in parts for `threads` threads (itself when one part will do). */
export function splitBatch(
  batch: TaskBatch,
  threads: number,
  sizer: BatchSizer,
): TaskBatch[] {
  const n = batch.leases.length;
  const even = Math.ceil(n / threads);
  const size = sizer.measured(batch.module)
    ? Math.min(sizer.size(batch.module), even)
    : even;
  if (threads <= 1 || size >= n) return [batch];
  const parts: TaskBatch[] = [];
  for (let from = 0; from < n; from += size) {
    const to = Math.min(n, from + size);
    parts.push({
      ...batch,
      leases: batch.leases.slice(from, to),
      indexes: batch.indexes.slice(from, to),
      attempts: batch.attempts.slice(from, to),
      inputs: batch.inputs.slice(from, to),
      inputsSpan:
        batch.inputsSpan === undefined
          ? undefined
          : inputsSpan(batch, from, to),
      ...(batch.resumes ? { resumes: batch.resumes.slice(from, to) } : {}),
    });
  }
  return parts;
}

type List = ArrayLike<unknown>;
const isList = (value: unknown): value is List =>
  Array.isArray(value) || value instanceof Float64Array;

/**
 * Feeds the sizer with the busy times of a `done` message (before its ids are
 * released: its first id names the batch, hence the module). Untrusted: each time
 * counts only if plausible.
 */
export function sampleDone(
  sizer: BatchSizer,
  held: HeldBatches,
  message: Record<string, unknown>,
): void {
  const { leases, busyMs } = message;
  if (!isList(leases) || !isList(busyMs) || leases.length === 0) return;
  const first = leases[0];
  const batch = typeof first === 'number' ? held.find(first) : null;
  if (batch === null) return;
  const count = Math.min(leases.length, busyMs.length);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const ms = busyMs[i];
    if (typeof ms === 'number' && ms >= 0 && ms <= LIMITS.maxBusyMs)
      total += ms;
  }
  // Busy times are in whole µs: a tiny task reads 0, counted as 1 µs.
  sizer.sample(batch.module, Math.max(total, 0.001 * count), count);
}

/** What a thread's death leaves: outcomes to tell, and tasks to run again. */
export interface AfterDeath {
  told: Map<OnDone, Outcomes>;
  /** Tasks the thread read and never answered, as batches to hand over anew. */
  again: { batch: TaskBatch; onDone: OnDone }[];
}

/**
 * A task thread died (from the child: checked like anything it sends): the task it
 * ran is a crash; the others it had read and not reported run again (as new batches,
 * on whichever thread holds the fewest); what it had not read waits in its pipe for the
 * thread replacing it. Only ids held for that thread count.
 */
export function threadDied(
  held: HeldBatches,
  message: Record<string, unknown>,
): AfterDeath {
  const { thread, culprit, reported, read, reason } = message;
  const after: AfterDeath = { told: new Map(), again: [] };
  if (
    typeof thread !== 'number' ||
    typeof reported !== 'number' ||
    typeof read !== 'number'
  )
    return after;
  const error = String(reason).slice(0, LIMITS.maxErrorLength);
  const positions = new Map<HeldBatch, number[]>();
  for (const { batch, id, lease } of held.releaseRead(thread, reported, read)) {
    if (id === culprit) {
      const failure: TaskFailure = { lease, error, kind: 'crash' };
      const told = after.told.get(batch.onDone);
      if (told) told.failures.push(failure);
      else
        after.told.set(batch.onDone, {
          leases: [],
          outputs: [],
          failures: [failure],
        });
    } else {
      let list = positions.get(batch);
      if (!list) positions.set(batch, (list = []));
      list.push(id - batch.first);
    }
  }
  for (const [held, at] of positions)
    if (held.batch)
      after.again.push({
        batch: pickTasks(held.batch, at),
        onDone: held.onDone,
      });
  return after;
}
