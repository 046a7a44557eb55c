/**
 * Opens this tab's worker session: the shared session over the page's WebSocket, with
 * task code in module Web Workers, signed as this browser's volunteer identity.
 */
import {
  runWorkerSession,
  type SessionStatus,
  type WorkerSession,
} from '../../../shared/worker-session.js';
import { proveHello } from '../../../shared/identity.js';
import { masterSocketUrl } from '../controllers/master-connection.js';
import { browserClock } from '../runner/browser-clock.js';
import { browserConnect } from '../runner/browser-transport.js';
import { WebWorkerExecutor } from '../runner/web-worker-executor.js';
import { loadBrowserIdentity } from './identity-store.js';
import { spawnTaskThread } from './spawn-task-thread.js';

export interface VolunteerSessionOptions {
  threads: number;
  /** CPU share per thread, percent. */
  cpuShare: number;
  name: string;
  onStatus(status: SessionStatus): void;
}

export function openVolunteerSession(options: VolunteerSessionOptions): {
  session: WorkerSession;
  executor: WebWorkerExecutor;
} {
  const clock = browserClock();
  const executor = new WebWorkerExecutor({
    threads: options.threads,
    spawn: spawnTaskThread,
    clock,
  });
  executor.setShare(options.cpuShare);
  const session = runWorkerSession({
    connect: browserConnect(masterSocketUrl(window.location)),
    executor,
    kind: 'browser',
    name: options.name,
    // Signed for the host this page came from: the socket dials the same one.
    prove: async (nonce) =>
      proveHello(await loadBrowserIdentity(), window.location.host, nonce),
    clock,
    onStatus: options.onStatus,
    onLog: (level, message) => {
      if (level === 'warn') console.warn(`colony: ${message}`);
    },
  });
  return { session, executor };
}
