/** `colony worker [URL]`: contribute this machine's cores until SIGINT/SIGTERM. */
import os from 'node:os';
import type { Flags } from './flags.js';
import { createLogger } from '../log.js';
import { startNodeWorker } from '../worker/node-worker.js';
import { DEFAULT_URL } from './common.js';

export async function runWorker(
  url: string | undefined,
  flags: Flags,
): Promise<void> {
  const target = url ?? flags.url ?? DEFAULT_URL;
  try {
    new URL(target);
  } catch {
    throw new Error(
      `${JSON.stringify(target)} is not a URL; try ${DEFAULT_URL}`,
    );
  }
  const logger = createLogger('worker', flags['log-level']);
  const threads = flags.threads ?? os.availableParallelism();
  const worker = startNodeWorker({
    url: target,
    threads,
    logger,
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.window ? { window: flags.window } : {}),
    ...(flags['memory-mb'] ? { threadMemoryMb: flags['memory-mb'] } : {}),
  });
  process.stderr.write(`colony worker: ${threads} thread(s) for ${target}\n`);
  const stop = () => {
    worker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
