/**
 * How many tasks one worker may hold at once, whatever credit it claims. A worker's
 * `ready {credit}` is only a wish: the master grants at most an allowance that starts
 * at a few tasks per slot and grows by one with every result the worker returns (so
 * it doubles per round trip, like TCP's slow start) up to what the worker's adaptive
 * prefetch window can need. A lease that expires on a worker halves its allowance.
 * A socket that claims 100 000 and answers nothing holds `slots × START_PER_SLOT`.
 */
import type { State } from './state.js';
import type { WorkerRecord } from './records.js';

/** The defaults of {@link AllowanceOptions}. */
export const ALLOWANCE_DEFAULTS: AllowanceOptions = {
  // The worker session's own first window.
  startPerSlot: 2,
  maxPerSlot: 1_024,
  // The worker session's largest prefetch window.
  maxHeld: 4_096,
};

export interface AllowanceOptions {
  /** Tasks per slot a new worker may hold. */
  startPerSlot: number;
  /** Tasks per slot a worker may grow to hold. */
  maxPerSlot: number;
  /** Cap on what any worker may hold. */
  maxHeld: number;
}

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

/** A result came back on an active lease: the worker may hold one more. */
export function grow(s: State, worker: WorkerRecord): void {
  if (worker.allowance < maxAllowance(s.options.allowance, worker.slots))
    worker.allowance++;
}

/** A lease expired on the worker: it held more than it could run. */
export function shrink(s: State, worker: WorkerRecord): void {
  worker.allowance = Math.max(
    startAllowance(s.options.allowance, worker.slots),
    Math.floor(worker.allowance / 2),
  );
}

/** Whether the worker can take a task now: it granted credit and has room. */
export function canTake(worker: WorkerRecord): boolean {
  return worker.credit > 0 && room(worker) > 0;
}

/**
 * Keeps `s.hungry` equal to the connected workers that can take a task. Adding a
 * member again keeps its place in the rotation.
 */
export function syncHungry(s: State, worker: WorkerRecord): void {
  if (canTake(worker) && s.isConnected(worker)) s.hungry.add(worker);
  else s.hungry.delete(worker);
}
