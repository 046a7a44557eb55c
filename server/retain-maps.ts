/**
 * Keeps V8 from throwing away compiled code while a process idles. Optimised code holds
 * the hidden classes (maps) of the objects it was compiled for only weakly, and V8 lets a
 * map that no live object uses die after 2 full collections: an idle master or worker
 * (its memory reducer collects a few times within seconds) then loses the maps of the
 * last job's messages, and with them the code compiled for them, so that the next job
 * (or the first, after the warm-ups) runs in the interpreter while the compiler starts
 * over. Measured: a job after 15 s idle cost the master 1.2-1.5 s of CPU against 0.5-0.7
 * for the same job right after another; with maps kept for 100 collections, 0.5-0.6.
 * Maps are small and a busy process's maps are in use anyway.
 */
import v8 from 'node:v8';

/** Sets the flag once per process (V8 flags are process-wide: threads share them). */
export function retainMaps(): void {
  try {
    v8.setFlagsFromString('--retain-maps-for-n-gc=100');
    // Likewise the bytecode of functions unused for a few full collections, and the
    // optimised code with it: after idle, the next job's hot paths were interpreted
    // and recompiled (a first job after 10 s idle recompiled 50 functions, not 30).
    v8.setFlagsFromString('--no-flush-bytecode');
  } catch {
    // Only speed is lost.
  }
}
