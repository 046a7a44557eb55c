/**
 * How many tasks one worker may hold at once, whatever credit it claims. A worker's
 * `ready {credit}` is only a wish: the master grants at most an allowance that starts
 * at a few tasks per slot and grows by {@link PER_RESULT} with every result the worker
 * returns (so it triples per round trip, a faster slow start than TCP's doubling: a
 * fresh worker reaches its full window in six round trips rather than ten, which is
 * most of a first job's ramp) up to what the worker's adaptive prefetch window can
 * need. Hoarding stays bounded by answers: what a worker holds beyond its start is at
 * most twice what it has returned. A lease that expires on a worker halves its
 * allowance. A socket that claims 100 000 and answers nothing holds
 * `slots × startPerSlot`.
 */
import type { WorkerRecord } from './records.js';
import type { AllowanceOptions } from './types.js';

export type { AllowanceOptions };

/** How many more tasks a worker may hold for each result it returns on a live lease. */
export const PER_RESULT = 2;

/** The defaults of {@link AllowanceOptions}. */
export const ALLOWANCE_DEFAULTS: AllowanceOptions = {
  // The worker session's own first window.
  startPerSlot: 2,
  maxPerSlot: 1_024,
  // The worker session's largest prefetch window.
  maxHeld: 4_096,
};

/** The allowance of a worker with `slots` that just joined. */
export function startAllowance(o: AllowanceOptions, slots: number): number {
  return Math.min(o.maxHeld, Math.max(1, slots) * o.startPerSlot);
}

/** The most a worker with `slots` may ever hold. */
export function maxAllowance(o: AllowanceOptions, slots: number): number {
  return Math.max(
    startAllowance(o, slots),
    Math.min(o.maxHeld, Math.max(1, slots) * o.maxPerSlot),
  );
}

/** Tasks the worker may be sent now (0: it holds its allowance). */
export function room(worker: WorkerRecord): number {
  return Math.max(0, worker.allowance - worker.active.size);
}

/** A result came back on an active lease: the worker may hold {@link PER_RESULT} more. */
export function grow(o: AllowanceOptions, worker: WorkerRecord): void {
  const max = maxAllowance(o, worker.slots);
  if (worker.allowance < max)
    worker.allowance = Math.min(max, worker.allowance + PER_RESULT);
}

/** A lease expired on the worker: it held more than it could run. */
export function shrink(o: AllowanceOptions, worker: WorkerRecord): void {
  worker.allowance = Math.max(
    startAllowance(o, worker.slots),
    Math.floor(worker.allowance / 2),
  );
}

/** Whether the worker can take a task now: it granted credit and has room. */
export function canTake(worker: WorkerRecord): boolean {
  return worker.credit > 0 && room(worker) > 0;
}
