// Preloaded into a master by latency-trace.mjs (NODE_OPTIONS=--import): records, on the
// monotonic clock the client also reads (process.hrtime), every garbage collection and
// every SQLite transaction of the main thread, and writes them as JSON to the file named
// by LATENCY_TRACE_OUT when the process exits.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const out = process.env.LATENCY_TRACE_OUT;
/** Values per result row (server/master/store/sqlite-results.ts). */
const RESULT_WIDTH = 7;
if (isMainThread && out) {
  const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
  // performance.now() and hrtime differ by a constant: GC entries are moved onto hrtime.
  const offset = nowMs() - performance.now();
  const gcs = [];
  const newSpaceMb = () =>
    v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
      .space_size /
    2 ** 20;
  const commits = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      gcs.push([
        entry.startTime + offset,
        entry.duration,
        entry.detail?.kind,
        newSpaceMb(),
      ]);
  }).observe({ entryTypes: ['gc'] });
  const require = createRequire(path.join(process.cwd(), 'package.json'));
  const Database = require('better-sqlite3');
  const transaction = Database.prototype.transaction;
  Database.prototype.transaction = function (fn) {
    const run = transaction.call(this, fn);
    const timed = function (...args) {
      const start = nowMs();
      try {
        return run.apply(this, args);
      } finally {
        // The group commit's first argument: chunks of result rows' values.
        const chunks = Array.isArray(args[0]) ? args[0] : [];
        const values = chunks.reduce(
          (sum, chunk) => sum + (chunk?.length ?? 0),
          0,
        );
        commits.push([start, nowMs() - start, values / RESULT_WIDTH]);
      }
    };
    for (const key of ['deferred', 'immediate', 'exclusive'])
      timed[key] = run[key];
    return timed;
  };
  process.on('exit', () =>
    writeFileSync(out, JSON.stringify({ gcs, commits })),
  );
}
