/**
 * A thread's reports of its tasks on the way (`ctx.progress`, `ctx.checkpoint`), checked
 * before they are passed on: task code can post anything on the thread's port, so a
 * report counts only if it names a lease that thread holds, unreported and not cancelled.
 */
import type { Lease } from '../protocol.js';
import type { CheckpointListener, ProgressListener } from '../session/ports.js';
import { findUnreported, type Thread } from './thread.js';

/** Passes on a task's progress (a fraction 0..1) if its lease is held as above. */
export function forwardProgress(
  thread: Thread,
  message: { lease: unknown; fraction: unknown },
  cancelled: ReadonlySet<Lease>,
  listener: ProgressListener | null,
): void {
  const { fraction } = message;
  // From our own thread; it counts only if it names a lease that thread holds.
  const lease = message.lease as Lease;
  if (
    listener === null ||
    typeof lease !== 'number' ||
    typeof fraction !== 'number' ||
    !(fraction >= 0 && fraction <= 1) ||
    cancelled.has(lease)
  )
    return;
  if (findUnreported(thread, (l) => l === lease)) listener(lease, fraction);
}

/** Passes on a task's checkpoint, on the same terms as its progress. */
export function forwardCheckpoint(
  thread: Thread,
  message: { lease: unknown; state: unknown },
  cancelled: ReadonlySet<Lease>,
  listener: CheckpointListener | null,
): void {
  const { state } = message;
  // From our own thread; it counts only if it names a lease that thread holds.
  const lease = message.lease as Lease;
  if (
    listener === null ||
    typeof lease !== 'number' ||
    state === undefined ||
    cancelled.has(lease)
  )
    return;
  if (findUnreported(thread, (l) => l === lease)) listener(lease, state);
}
