#!/usr/bin/env node
// The first job of a fresh master against the next, seen from inside (diagnostics,
// not part of run.mjs): one fresh master, 2 workers of 1 thread, job 1 then job 2 of
// the same numbers module. Prints each job's CPU per process and, per 10 ms from the
// submit, the results each worker sent, the tasks it received, its results frames and
// the credit it granted: how long job 1 takes to reach full rate.
//
//   node test/bench/cold-timeline.mjs [--tasks N] [--profile DIR] [--node-flags="..."]
//
// --profile     master and workers run under --cpu-prof into DIR; the jobs' spans are
//               printed as monotonic µs, the clock of the profiles' samples
// --node-flags  V8/Node flags for the master and the workers (e.g. --node-flags="--trace-gc")
// --master-flags, --worker-flags  the same for the master alone, the workers alone
// --idle-ms     idle this long after the boot before job 1 (as a user's master does)
//
// Each process's stdout goes to /tmp/cold-timeline-<name>.txt, each chunk after a line
// "@@ <epoch ms>", to split traces by job.
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import {
  BENCH_DIR,
  CLI,
  ROOT,
  TOKEN,
  killAll,
  procCpuSeconds,
  procTreeCpuSeconds,
  sleep,
  spawnTracked,
  stopChild,
  waitForJob,
  waitForWorkers,
} from './lib.mjs';

const { values: flags } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    profile: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    'master-flags': { type: 'string', default: '' },
    'worker-flags': { type: 'string', default: '' },
    'idle-ms': { type: 'string', default: '0' },
  },
});
const tasks = Number(flags.tasks);
const split = (text) => text.split(' ').filter(Boolean);
const nodeFlags = split(flags['node-flags']);
const work = mkdtempSync(path.join(os.tmpdir(), 'cold-timeline-'));
const timelineOut = path.join(work, 'frames');

/** Spawns node with the flags; its stdout is logged with epoch marks. */
function spawnNode(name, args, env = process.env) {
  const own = split(flags[name === 'master' ? 'master-flags' : 'worker-flags']);
  const profile = flags.profile
    ? ['--cpu-prof', '--cpu-prof-dir', path.join(flags.profile, name)]
    : [];
  const child = spawnTracked(
    process.execPath,
    [...profile, ...nodeFlags, ...own, ...args],
    { cwd: ROOT, env },
  );
  const log = createWriteStream(`/tmp/cold-timeline-${name}.txt`);
  child.stdout.on('data', (chunk) => log.write(`@@ ${Date.now()}\n${chunk}`));
  child.stderr.on('data', () => undefined);
  return child;
}

const master = spawnNode('master', [
  CLI,
  'master',
  ...['--port', '0', '--data', path.join(work, 'data'), '--token', TOKEN],
  ...['--log-level', 'warn', '--max-connections-per-address', '1000000'],
  ...['--max-handshakes-per-address', '1000000'],
]);
const url = await new Promise((resolve) => {
  let text = '';
  master.stdout.on('data', (chunk) => {
    text += chunk;
    const m = /dashboard: (http:\/\/[^\s/]+)\//.exec(text);
    if (m) resolve(m[1]);
  });
});
const workers = [1, 2].map((n) =>
  spawnNode(
    `worker-${n}`,
    [
      ...['--import', path.join(BENCH_DIR, 'timeline-preload.mjs')],
      ...[CLI, 'worker', url, '--log-level', 'warn', '--threads', '1'],
    ],
    { ...process.env, TIMELINE_OUT: timelineOut },
  ),
);
const pids = [master, ...workers].map((c) => c.pid);
const cpu = () => ({
  master: procTreeCpuSeconds(master.pid),
  workerMains: workers.reduce((s, w) => s + procCpuSeconds(w.pid), 0),
  workerTrees: workers.reduce((s, w) => s + procTreeCpuSeconds(w.pid), 0),
});

try {
  await waitForWorkers(url, 2);
  const client = new ColonyClient({ url, token: TOKEN });
  const module = await bundleModule(path.join(BENCH_DIR, 'tasks/inc.mjs'));
  // Booted and warmed up: CPU has stopped moving (or 20 s passed).
  const total = () => pids.reduce((s, pid) => s + procTreeCpuSeconds(pid), 0);
  let last = total();
  for (const end = Date.now() + 20_000; Date.now() < end;) {
    await sleep(500);
    const now = total();
    if (now - last < 0.05) break;
    last = now;
  }
  console.log(`boot CPU of master + workers: ${total().toFixed(2)} s`);
  await sleep(Number(flags['idle-ms']));
  const inputs = Array.from({ length: tasks }, (_, i) => i);
  const spans = [];
  for (const n of [1, 2]) {
    const before = cpu();
    const t0 = Date.now();
    const m0 = process.hrtime.bigint() / 1000n;
    const { id } = await client.submit({ name: `job-${n}`, module, inputs });
    const submitted = Date.now() - t0;
    const { job } = await waitForJob(client, id, 120_000, 10);
    const t1 = Date.now();
    const m1 = process.hrtime.bigint() / 1000n;
    const after = cpu();
    const d = (k) => (after[k] - before[k]).toFixed(2);
    spans.push({ n, t0, t1 });
    console.log(
      `job ${n}: ${job.counts.done} done in ${t1 - t0} ms (submit ${submitted} ms), ` +
        `${Math.round((tasks / (t1 - t0)) * 1000)}/s; CPU s master ${d('master')}, ` +
        `worker processes ${d('workerMains')}, workers with sandboxes ${d('workerTrees')}; ` +
        `epoch ms ${t0} ${t1}, monotonic µs ${m0} ${m1}`,
    );
    await sleep(300);
  }
  await Promise.all(workers.map((w) => stopChild(w)));
  const logs = workers.map((w) =>
    JSON.parse(readFileSync(`${timelineOut}-${w.pid}.json`, 'utf8')),
  );
  for (const { n, t0, t1 } of spans) {
    console.log(
      `\njob ${n}, per 10 ms from the submit (bins with nothing left out):` +
        `\n   ms | results w1 w2 | tasks in w1 w2 | results frames | credit granted`,
    );
    const bins = [];
    logs.forEach((log, w) => {
      for (const [t, direction, type, count, credit] of log) {
        if (t < t0 || t > t1) continue;
        const bin = (bins[Math.floor((t - t0) / 10)] ??= new Array(8).fill(0));
        if (direction === 'out' && type === 'results') {
          bin[w] += count;
          bin[4 + w]++;
        }
        if (direction === 'in' && type === 'tasks') bin[2 + w] += count;
        if (direction === 'out') bin[6 + w] += credit;
      }
    });
    bins.forEach((b, i) => {
      if (!b) return;
      const col = (a, b2, width) =>
        `${String(a).padStart(width)} ${String(b2).padStart(width)}`;
      console.log(
        `${String(i * 10).padStart(5)} | ${col(b[0], b[1], 6)} | ${col(b[2], b[3], 6)} | ` +
          `${col(b[4], b[5], 3)} | ${col(b[6], b[7], 6)}`,
      );
    });
  }
} finally {
  await Promise.all(workers.map((w) => stopChild(w)));
  await stopChild(master, 'SIGINT', 15_000);
  killAll();
  rmSync(work, { recursive: true, force: true });
}
