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
import { browserClock } from '../runner/browser-clock.js';
import { WebWorkerExecutor } from '../runner/web-worker-executor.js';
import { loadBrowserIdentity } from './identity-store.js';
import { rotatingConnect, volunteerSocketUrls } from './master-list.js';
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
  // The page's own master, or the list in ?masters= (several masters on one database).
  const masters = rotatingConnect(volunteerSocketUrls(window.location));
  const session = runWorkerSession({
    connect: masters.connect,
    executor,
    kind: 'browser',
    name: options.name,
    // Signed for the host the socket dials (the page's own, or one of ?masters=).
    prove: async (nonce) =>
      proveHello(await loadBrowserIdentity(), masters.host(), nonce),
    clock,
    onStatus: options.onStatus,
    onLog: (level, message) => {
      if (level === 'warn') console.warn(`colony: ${message}`);
    },
  });
  return { session, executor };
}
