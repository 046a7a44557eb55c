/**
 * Warming a task thread before its first real task: a throwaway runner (the JIT's work
 * is shared by every runner of the thread, its state is not) runs a built-in trivial
 * module over a few batches, which also loads the loader of `data:` modules that every
 * task module comes through. Its outcomes go nowhere and it never touches the shared
 * slot that blames a crash, so the host sees nothing of it.
 */
import type { Lease } from '../../shared/protocol.js';
import { createTaskRunner, type ToThread } from '../../shared/task-runner.js';
import { retainMaps } from '../retain-maps.js';

const MODULE = 'data:text/javascript,export default (x) => x';
const BATCH = 256;

function batch(round: number, firstLease: number): ToThread {
  // Leases of the size the master issues (past the small-integer range, see warm-up.ts).
  const leases = Array.from(
    { length: BATCH },
    (_, i) => firstLease + round * BATCH + i,
  ) as Lease[];
  return {
    type: 'run',
    job: 'warm-up',
    module: 'warm-up',
    leases,
    indexes: leases.map((_, i) => round * BATCH + i),
    attempts: leases.map(() => 1),
    inputs: leases.map((_, i) => (i % 2 === 0 ? i : { id: `w${i}`, x: i })),
    deadline: Date.now() + 60_000,
  };
}

/** Runs `rounds` batches of the trivial module; `onDone` hears how many outcomes came. */
export function warmUpThread(
  rounds = 8,
  onDone: (outcomes: number) => void = () => undefined,
): void {
  // Also for the sandbox child's own process: its threads set its flags.
  retainMaps();
  let outcomes = 0;
  const want = rounds * BATCH;
  const runner = createTaskRunner({
    importModule: () => import(MODULE),
    post: (message) => {
      if (message.type !== 'outcomes') return;
      outcomes += message.leases.length;
      if (outcomes === want) onDone(outcomes);
    },
    now: () => Date.now(),
    busyNow: () => performance.now(),
  });
  try {
    const firstLease = Date.now() * 1_000;
    for (let round = 0; round < rounds; round++)
      runner.handle(batch(round, firstLease));
  } catch {
    // A warm-up that fails costs the first job its speed, nothing else.
  }
}
