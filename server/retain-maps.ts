/**
 * V8 flags that keep a process as fast on its first job as on the next, set at run time
 * (both are read when used, not only at start):
 *
 * - `--retain-maps-for-n-gc=100`: optimised code holds the hidden classes (maps) of
 *   the objects it was compiled for only weakly, and V8 lets a map that no live object
 *   uses die after 2 full collections: an idle master or worker (its memory reducer
 *   collects a few times within seconds) then loses the maps of the last job's
 *   messages, and with them the code compiled for them, so that the next job (or the
 *   first, after the warm-ups) runs in the interpreter while the compiler starts over.
 *   Measured: a job after 15 s idle cost the master 1.2-1.5 s of CPU against 0.5-0.7
 *   for the same job right after another; with maps kept for 100 collections, 0.5-0.6.
 *   Maps are small and a busy process's maps are in use anyway.
 * - `--semi-space-growth-factor=16`: an idle process's young generation shrinks back
 *   to its floor (1 MB), and grew again only by doubling, one step per scavenge that
 *   found more survivors than it holds: a first job after a wait ran through 1, 2, 4,
 *   8 MB with a scavenge every few hundred KB of garbage, promoting the job's
 *   short-lived objects early. Counted on a fresh master and its two workers
 *   (100,000 tasks), scavenges in the first job: master 30, each worker ~35; in the
 *   next: 9 and ~20. With the young generation back at its usual size in one step:
 *   master 10 and 9, each worker 2-3 in both. A busy process reaches that size
 *   anyway; an idle one still shrinks.
 */
import v8 from 'node:v8';

const FLAGS = ['--retain-maps-for-n-gc=100', '--semi-space-growth-factor=16'];

/** Sets the flags (V8 flags are process-wide: threads share them; setting twice is harmless). */
export function steadyV8Flags(): void {
  for (const flag of FLAGS) {
    try {
      v8.setFlagsFromString(flag);
    } catch {
      // Only speed is lost.
    }
  }
}
