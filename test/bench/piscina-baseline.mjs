// Baseline: a piscina pool of `threads` threads running `x => x + 1`, one thread hop per
// task (what the Node worker would cost without batching into its threads).
// Usage: node piscina-baseline.mjs TASKS THREADS; prints one JSON line.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { BENCH_DIR, emit } from './lib.mjs';

const tasks = Number(process.argv[2] ?? 200_000);
const threads = Number(process.argv[3] ?? 2);
const pool = new Piscina({
  filename: pathToFileURL(path.join(BENCH_DIR, 'tasks/piscina-inc.mjs')).href,
  minThreads: threads,
  maxThreads: threads,
  concurrentTasksPerWorker: 1,
});

/** Keeps `window` tasks in flight until `count` are done; returns tasks/s. */
async function run(count, window) {
  let next = 0;
  let done = 0;
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const launch = () => {
      const x = next++;
      pool.run(x).then((y) => {
        if (y !== x + 1) reject(new Error(`piscina answered ${y} for ${x}`));
        done++;
        if (next < count) launch();
        else if (done === count) resolve();
      }, reject);
    };
    for (let i = 0; i < Math.min(window, count); i++) launch();
  });
  return count / ((performance.now() - started) / 1000);
}

await run(Math.min(20_000, tasks), 512); // warm-up: threads up, code optimised
const rate = await run(tasks, 512);
await pool.destroy();
emit({ tasks, threads, tasksPerSecond: rate });
