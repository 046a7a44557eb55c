/**
 * `colony demo` (and `npm start`): a master, a demo job and a local worker, so a new
 * user sees the whole path work and the dashboard move. Stays up until Ctrl-C
 * (`--once` exits when the job completes).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleModule, ColonyClient } from '../client/index.js';
import type { Flags } from '../cli.js';
import { createLogger } from '../log.js';
import { startMaster } from '../master/main.js';
import { startNodeWorker } from '../worker/node-worker.js';
import { printMasterBanner } from './common.js';
import { waitAndWrite } from './submit.js';

function examplesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../examples'),
    path.resolve(here, '../../examples'),
  ];
  return (
    candidates.find((dir) => existsSync(path.join(dir, 'primes.mjs'))) ??
    (candidates[0] as string)
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
  const module = await bundleModule(path.join(examplesDir(), 'primes.mjs'));
  // 2,000 ranges of 5,000 numbers: long enough to watch, short enough to finish.
  const inputs = Array.from({ length: 2_000 }, (_, i) => ({
    from: i * 5_000,
    to: (i + 1) * 5_000,
  }));
  const { id } = await client.submit({
    name: 'demo: count primes below 10,000,000',
    module,
    inputs,
  });
  process.stderr.write(
    `demo job ${id}: ${inputs.length} tasks on ${threads} local thread(s); open the dashboard to watch\n`,
  );
  const out = path.join(
    path.resolve(flags.data ?? './colony-data'),
    `demo-${id}.jsonl`,
  );
  await waitAndWrite(client, id, out);
  let primes = 0;
  for await (const line of client.results(id))
    if (line.ok) primes += line.output as number;
  process.stdout.write(
    `demo complete: ${primes} primes below 10,000,000 (results in ${out})\n`,
  );
  const stop = () => {
    void worker
      .stop()
      .then(() => master.close())
      .then(() => process.exit(0));
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
