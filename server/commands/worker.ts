/** `colony worker [URL]`: contribute this machine's cores until SIGINT/SIGTERM. */
import os from 'node:os';
import type { Flags } from './flags.js';
import { createLogger } from '../log.js';
import { masterList, startNodeWorker } from '../worker/node-worker.js';
import { installPauseControls } from '../worker/pause-controls.js';
import { defaultIdentityFile, loadIdentity } from '../worker/identity-file.js';
import { resolveSandbox, type SandboxMode } from '../worker/sandbox/modes.js';
import { DEFAULT_URL } from './common.js';

const WARNINGS: Record<SandboxMode, string> = {
  bwrap: '',
  permission:
    'colony worker: warning: bubblewrap is not available here, so task code runs under ' +
    "Node's permission model only: it cannot read or write your files or start " +
    'processes, but it CAN open network connections (install bubblewrap to block them)\n',
  none:
    'colony worker: warning: --sandbox none: task code runs unconfined, with your ' +
    'files, network and processes; use it only if you trust every job of this master\n',
};

export async function runWorker(
  url: string | undefined,
  flags: Flags,
): Promise<void> {
  const target = url ?? flags.url ?? DEFAULT_URL;
  try {
    masterList(target);
  } catch {
    throw new Error(
      `${JSON.stringify(target)} is not a URL (or a comma-separated list of them); try ${DEFAULT_URL}`,
    );
  }
  const logger = createLogger('worker', flags['log-level']);
  const threads = flags.threads ?? os.availableParallelism();
  const sandbox = resolveSandbox(flags.sandbox ?? 'auto');
  const identityFile = flags.identity ?? defaultIdentityFile();
  const identity = await loadIdentity(identityFile);
  if (identity.warning)
    process.stderr.write(`colony worker: warning: ${identity.warning}\n`);
  const worker = startNodeWorker({
    keys: identity.keys,
    url: target,
    threads,
    sandbox,
    logger,
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.window ? { window: flags.window } : {}),
    ...(flags['memory-mb'] ? { threadMemoryMb: flags['memory-mb'] } : {}),
    ...(flags.cpu ? { cpuPercent: flags.cpu } : {}),
  });
  process.stderr.write(
    `colony worker: ${threads} thread(s) at ${flags.cpu ?? 100}% CPU for ${target}; sandbox: ${sandbox}; volunteer ${identity.volunteer}${identity.created ? ` (new identity in ${identityFile})` : ''}\n${WARNINGS[sandbox]}`,
  );
  let removeControls = (): void => undefined;
  const stop = () => {
    removeControls();
    worker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  removeControls = installPauseControls({
    session: worker.session,
    say: (message) => process.stderr.write(`colony worker: ${message}\n`),
    onInterrupt: stop,
  });
}
