// How fast the client commands start: `colony --help`, `status`, `results JOB` and
// `cancel JOB` (against a live master, a job of 3 tasks) against a bare `node -e ''`,
// run in turn `rounds` times (interleaved, so that the machine's load falls on all
// alike); each figure is the median wall time of a whole run, start to exit.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, TOKEN, startMaster, tempDir } from './lib.mjs';

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Wall milliseconds of one run; throws if the command failed. */
function timed(args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, COLONY_TOKEN: TOKEN },
    encoding: 'utf8',
  });
  const ms = performance.now() - started;
  if (result.status !== 0)
    throw new Error(
      `${args.join(' ')}: exit ${result.status}: ${result.stderr}`,
    );
  return ms;
}

export async function cliStart({ rounds }) {
  const master = await startMaster({ label: 'cli' });
  try {
    const inputs = path.join(tempDir(), 'inputs.ndjson');
    writeFileSync(inputs, '1\n2\n3\n');
    const url = ['--url', master.url];
    const submitted = spawnSync(
      process.execPath,
      [
        CLI,
        'submit',
        path.join(ROOT, 'test/bench/tasks/inc.mjs'),
        '--inputs',
        inputs,
        ...url,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, COLONY_TOKEN: TOKEN },
        encoding: 'utf8',
      },
    );
    // `submit` prints the job's id alone on stdout.
    const id = submitted.stdout.trim();
    if (submitted.status !== 0 || !id)
      throw new Error(`submit failed: ${submitted.stderr}`);
    const commands = {
      node: ['-e', ''],
      help: [CLI, '--help'],
      status: [CLI, 'status', ...url],
      results: [CLI, 'results', id, ...url],
      cancel: [CLI, 'cancel', id, ...url],
    };
    const runs = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    for (let round = 0; round < rounds; round++)
      for (const [name, args] of Object.entries(commands))
        runs[name].push(timed(args));
    const ms = Object.fromEntries(
      Object.entries(runs).map(([name, values]) => [name, median(values)]),
    );
    const ratio = Object.fromEntries(
      Object.keys(commands)
        .filter((name) => name !== 'node')
        .map((name) => [name, ms[name] / ms.node]),
    );
    return {
      rounds,
      ms,
      ratio,
      worst: Math.max(...Object.values(ratio)),
      runs,
    };
  } finally {
    await master.stop();
  }
}
