#!/usr/bin/env node
// The sandbox relay alone: one executor (the worker's SandboxedExecutor with its child,
// or the unsandboxed ThreadPool) fed batches of trivial tasks with a few in flight, no
// master, no socket. Prints the CPU per task of this process and of its descendants
// (the child and its threads): the cost of the pipe hop itself, which a loaded machine
// disturbs far less than rates. Interleave builds to compare them.
//
//   node test/bench/sandbox-relay.mjs [bwrap|permission|none] [tasks] [batch] [inflight]
//
// Bundles its entry from the sources next to dist/ (run `node scripts/build.mjs` first:
// the child and thread bundles come from there).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './lib.mjs';

const ENTRY = `
import { readFileSync, readdirSync } from 'node:fs';
import { ThreadPool } from './server/worker/thread-pool.ts';
import { SandboxedExecutor } from './server/worker/sandbox/executor.ts';
import { childCommand } from './server/worker/sandbox/modes.ts';

const [mode = 'bwrap', totalArg = '1000000', batchArg = '400', inflightArg = '10'] =
  process.argv.slice(2);
const total = Number(totalArg);
const batchSize = Number(batchArg);
const inflight = Number(inflightArg);
const loadModule = async () => 'export default function inc(x) { return x + 1; }';
const executor =
  mode === 'none'
    ? new ThreadPool({ threads: 1, loadModule })
    : new SandboxedExecutor({
        threads: 1,
        command: childCommand(mode, { threads: 1 }),
        loadModule,
      });

/** [user, system] CPU seconds of a process. */
function cpu(pid) {
  const stat = readFileSync('/proc/' + pid + '/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}
function children(pid) {
  const out = [];
  try {
    for (const t of readdirSync('/proc/' + pid + '/task')) {
      const text = readFileSync('/proc/' + pid + '/task/' + t + '/children', 'utf8').trim();
      if (text) out.push(...text.split(/\\s+/).map(Number));
    }
  } catch {}
  return out;
}
function treeCpu(pid) {
  let [u, s] = cpu(pid);
  for (const child of children(pid)) {
    const [a, b] = treeCpu(child);
    u += a;
    s += b;
  }
  return [u, s];
}
function snapshot() {
  const own = cpu(process.pid);
  const all = treeCpu(process.pid);
  return [...own, all[0] - own[0], all[1] - own[1]];
}

let lease = 1;
function run(n) {
  return new Promise((resolve) => {
    let sent = 0;
    let done = 0;
    const submit = () => {
      const k = Math.min(batchSize, n - sent);
      const leases = [], indexes = [], attempts = [], inputs = [];
      for (let i = 0; i < k; i++) {
        leases.push(lease++);
        indexes.push(sent + i);
        attempts.push(1);
        inputs.push(sent + i);
      }
      sent += k;
      executor.submit(
        { job: 'relay', module: 'a'.repeat(64), name: 'relay', timeoutMs: 60000,
          leases, indexes, attempts, inputs },
        (outcomes) => {
          if (outcomes.failures.length > 0) throw new Error(outcomes.failures[0].error);
          done += outcomes.leases.length;
          if (done >= n) resolve();
          while (executor.pending < batchSize * inflight && sent < n) submit();
        },
      );
    };
    while (executor.pending < batchSize * inflight && sent < n) submit();
  });
}

await run(100000); // warm-up: the child starts, the JIT settles, batch sizes adapt
const before = snapshot();
const started = Date.now();
await run(total);
const seconds = (Date.now() - started) / 1000;
const after = snapshot();
const us = after.map((v, i) => ((v - before[i]) * 1e6) / total);
console.log(
  mode.padEnd(10) + ' ' + Math.round(total / seconds) + ' tasks/s; CPU µs per task: this process ' +
  us[0].toFixed(2) + ' user + ' + us[1].toFixed(2) + ' sys, child ' + us[2].toFixed(2) +
  ' user + ' + us[3].toFixed(2) + ' sys, total ' + (us[0] + us[1] + us[2] + us[3]).toFixed(2),
);
await executor.close();
process.exit(0);
`;

const outfile = path.join(ROOT, 'dist/bench-sandbox-relay.mjs');
await build({
  stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile,
  logLevel: 'error',
});
const result = spawnSync(
  process.execPath,
  [outfile, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
