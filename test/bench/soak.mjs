#!/usr/bin/env node
// `npm run soak`: a master that runs for months, compressed. Jobs of trivial tasks back
// to back, each purged once its results are read; the master's RSS and the data dir's
// size after job 5 and after the last job (target: within 1.2x of each other), then the
// longest event-loop block while a 1,000,000-task job is purged (target: <= 50 ms): the
// purge's own longest synchronous step, and the loop delay seen by /metrics during it
// and during as long a window with nothing to do.
//
//   node test/bench/soak.mjs [--jobs 100] [--tasks 100000] [--big 1000000]
//
// Real processes on loopback: `colony master` (SQLite) and a raw worker that answers
// inline (fast-worker.mjs), so that the master's own costs dominate. Prints progress
// lines and ends with one JSON line: the numbers.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ColonyClient } from '../../dist/client.js';
import {
  TOKEN,
  emit,
  killAll,
  procMemory,
  removeTempDirs,
  runScript,
  scrapeMetrics,
  startMaster,
  stopChild,
  waitForWorkers,
} from './lib.mjs';

const { values: flags } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100' },
    tasks: { type: 'string', default: '100000' },
    big: { type: 'string', default: '1000000' },
  },
});
const JOBS = Number(flags.jobs);
const TASKS = Number(flags.tasks);
const BIG = Number(flags.big);
const MODULE = 'export default (x) => x + 1;\n';
/** Inputs per append request (the body stays a few hundred KB). */
const APPEND = 50_000;

function dirBytes(dir) {
  return readdirSync(dir).reduce(
    (sum, name) => sum + statSync(path.join(dir, name)).size,
    0,
  );
}

const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Submits a job of `count` numbered tasks, reads every result, returns its id. */
async function runJob(client, name, count) {
  const { id } = await client.submit({ name, module: MODULE, sealed: false });
  for (let from = 0; from < count; from += APPEND) {
    const n = Math.min(APPEND, count - from);
    await client.append(
      id,
      Array.from({ length: n }, (_, k) => from + k),
    );
  }
  await client.seal(id);
  let lines = 0;
  for await (const batch of client.resultLines(id, { follow: true }))
    lines += batch.length;
  if (lines !== count)
    throw new Error(`job ${id}: ${lines} of ${count} results`);
  return id;
}

async function main() {
  const master = await startMaster({ label: 'soak' });
  const client = new ColonyClient({ url: master.url, token: TOKEN });
  const worker = runScript('fast-worker.mjs', [master.wsUrl, '4096'], {
    timeoutMs: 3 * 3_600_000,
  });
  await waitForWorkers(master.url, 1);
  const marks = {};
  const started = Date.now();
  try {
    for (let n = 1; n <= JOBS; n++) {
      const id = await runJob(client, `soak-${n}`, TASKS);
      await client.purge(id);
      if (n === Math.min(5, JOBS) || n === JOBS) {
        marks[n] = {
          rssMb: mb(master.memory().rss),
          dataDirMb: mb(dirBytes(master.dataDir)),
        };
      }
      if (n % 10 === 0 || n === JOBS)
        emit({
          job: n,
          seconds: Math.round((Date.now() - started) / 1000),
          ...marks[n],
        });
    }
    const first = marks[Math.min(5, JOBS)];
    const last = marks[JOBS];

    // A 1,000,000-task job, read whole, then purged while the loop's delay is watched.
    const big = await runJob(client, 'soak-big', BIG);
    const sizeBefore = dirBytes(master.dataDir);
    // The loop's delay with nothing to do, over as long as the purge will take: on a
    // shared machine the process is also held up by others, not only by itself.
    await scrapeMetrics(master.url); // starts a fresh event-loop window
    const purgeStart = Date.now();
    const report = await client.purge(big);
    const purgeMs = Date.now() - purgeStart;
    const lag = await scrapeMetrics(master.url);
    await new Promise((resolve) => setTimeout(resolve, purgeMs));
    const idle = await scrapeMetrics(master.url);
    const ms = (metrics) =>
      Math.round(metrics['nodejs_eventloop_lag_max_seconds'] * 1000 * 10) / 10;
    const result = {
      jobs: JOBS,
      tasks: TASKS,
      afterJob5: first,
      afterLastJob: last,
      rssRatio: Math.round((last.rssMb / first.rssMb) * 100) / 100,
      dataDirRatio: Math.round((last.dataDirMb / first.dataDirMb) * 100) / 100,
      big: {
        tasks: BIG,
        dataDirBeforeMb: mb(sizeBefore),
        dataDirAfterMb: mb(dirBytes(master.dataDir)),
        purgeMs,
        purgeSteps: report.steps,
        longestPurgeStepMs: report.longestStepMs,
        longestPurgeStepCpuMs: report.longestStepCpuMs,
        maxLoopDelayDuringPurgeMs: ms(lag),
        maxLoopDelayIdleMs: ms(idle),
      },
      seconds: Math.round((Date.now() - started) / 1000),
    };
    emit(result);
  } finally {
    await stopChild(worker.child, 'SIGTERM', 5_000);
    await master.stop();
  }
}

main()
  .catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    removeTempDirs();
  });
