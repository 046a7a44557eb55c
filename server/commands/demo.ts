/**
 * `colony demo` (and `npm start`): a master, a demo job and a local worker, so a new
 * user sees the whole path work and the dashboard move. The job renders the Mandelbrot
 * set in tiles (examples/mandelbrot); the client puts them together into a PNG in the
 * data dir. Stays up until Ctrl-C (`--once` exits when the job completes).
 */
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleModule, ColonyClient } from '../client/index.js';
import type { Flags } from './flags.js';
import { createLogger } from '../log.js';
import { startMaster } from '../master/main.js';
import { startNodeWorker } from '../worker/node-worker.js';
import {
  assemblePng,
  mandelbrotInputs,
} from '../../examples/mandelbrot/job.js';
import { printMasterBanner } from './common.js';
import { endLine, showProgress } from './progress.js';

function examplesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../examples'),
    path.resolve(here, '../../examples'),
  ];
  return (
    candidates.find((dir) =>
      existsSync(path.join(dir, 'mandelbrot', 'task.ts')),
    ) ?? (candidates[0] as string)
  );
}

export async function runDemo(flags: Flags): Promise<void> {
  const master = await startMaster({
    port: flags.port ?? 8080,
    dataDir: flags.data ?? './colony-data',
    ...(flags.token ? { token: flags.token } : {}),
    logLevel: flags['log-level'] ?? 'warn',
  });
  printMasterBanner(master.url, master.token);
  const threads = flags.threads ?? os.availableParallelism();
  const worker = startNodeWorker({
    url: master.url,
    threads,
    name: 'demo-worker',
    logger: createLogger('worker', flags['log-level'] ?? 'warn'),
  });
  const client = new ColonyClient({ url: master.url, token: master.token });
  const module = await bundleModule(
    path.join(examplesDir(), 'mandelbrot', 'task.ts'),
  );
  // 2400x1600 pixels in 950 tiles: long enough to watch, short enough to finish.
  const inputs = mandelbrotInputs({ width: 2_400, height: 1_600, samples: 2 });
  const { id } = await client.submit({
    name: 'demo: Mandelbrot set, 2400x1600',
    module,
    inputs,
  });
  process.stderr.write(
    `demo job ${id}: ${inputs.length} tiles on ${threads} local thread(s); open the dashboard to watch\n`,
  );
  const tiles = new Array<Uint8Array>(inputs.length);
  const progress = showProgress(client, id);
  let failed = 0;
  try {
    for await (const line of client.results(id, { follow: true })) {
      if (line.ok) tiles[line.index] = line.output as Uint8Array;
      else failed++;
    }
  } finally {
    progress.stop();
  }
  const job = await client.job(id);
  process.stderr.write(`${endLine(job)}\n`);
  if (failed === 0 && job.state === 'completed') {
    const { png } = assemblePng(inputs, tiles);
    const out = path.join(
      path.resolve(flags.data ?? './colony-data'),
      `mandelbrot-${id}.png`,
    );
    writeFileSync(out, png);
    process.stdout.write(`demo complete: the Mandelbrot set is in ${out}\n`);
  } else {
    process.stdout.write(
      `demo ${job.state}: ${failed} of ${inputs.length} tiles failed; no image\n`,
    );
    process.exitCode = 1;
  }
  const stop = () => {
    void worker
      .stop()
      .then(() => master.close())
      .then(() => process.exit(process.exitCode ?? 0));
  };
  if (flags.once) {
    stop();
    return;
  }
  process.stderr.write(
    'the master keeps running: open the URLs above, add workers; Ctrl-C to stop\n',
  );
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
