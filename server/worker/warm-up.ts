/**
 * Warming a fresh Node worker, so that its first job runs about as fast as the next.
 * Measured on a fresh worker, the first job's extra CPU went mostly to loading `fetch`
 * (undici and its WebAssembly HTTP parser, on the first module fetch) and to running
 * the frame codecs cold. Both are done here, at start, on synthetic data: nothing of
 * the session's state (credit, outbox) or of the executor's (batch sizes) is touched.
 */
import { encodeFrame } from '../../shared/codec.js';
import {
  decodeWorkerBoundMessage,
  expandTasks,
  type Lease,
} from '../../shared/protocol.js';
import { ResultsOutbox } from '../../shared/session/results-outbox.js';
import { retainMaps } from '../retain-maps.js';
import {
  FrameReader,
  encodeFrame as encodePipeFrame,
} from './sandbox/frames.js';

/**
 * The first lease of a synthetic frame: the master issues leases from Date.now() * 1000,
 * past the small-integer range, and code compiled for small integers would be thrown
 * away (deoptimised) on the first real frame.
 */
export const warmUpLeaseBase = (): number => Date.now() * 1_000;

/** A `tasks` frame as the master writes it: one group of `count` tasks. */
export function syntheticTasksFrame(
  count: number,
  firstLease = warmUpLeaseBase(),
): string {
  const column = (f: (i: number) => string) =>
    Array.from({ length: count }, (_, i) => f(i)).join(',');
  return (
    `{"type":"tasks","jobs":{"warm-up":{"module":"${'0'.repeat(64)}","timeoutMs":60000,"name":"warm-up"}},` +
    `"groups":[{"job":"warm-up","leases":[${column((i) => String(firstLease + i))}],` +
    `"indexes":[${column(String)}],"attempts":[${column(() => '1')}],` +
    `"inputs":[${column((i) => (i % 2 === 0 ? String(i) : `{"id":"w${i}","x":${i}}`))}]}]}`
  );
}

/** Decodes tasks frames, passes them through the sandbox pipe's framing, encodes results. */
export function warmCodecs(rounds = 16): number {
  let seen = 0;
  const reader = new FrameReader(
    () => seen++,
    () => undefined,
  );
  const outbox = new ResultsOutbox();
  for (let round = 0; round < rounds; round++) {
    const decoded = decodeWorkerBoundMessage(syntheticTasksFrame(256));
    if (!decoded.ok || decoded.value.type !== 'tasks')
      throw new Error(`warm-up: the synthetic tasks frame was refused`);
    for (const batch of expandTasks(decoded.value)) {
      reader.push(encodePipeFrame({ t: 'submit', batch, first: 1 }));
      const outcomes = {
        leases: batch.leases,
        outputs: batch.inputs,
        failures: [],
        busyMs: batch.leases.map(() => 0.01),
      };
      reader.push(encodePipeFrame({ t: 'done', ...outcomes, skipped: [] }));
      outbox.add(outcomes);
    }
    const taken = outbox.take();
    encodeFrame({
      type: 'results',
      leases: taken.leases as Lease[],
      outputs: taken.outputs,
      busyMs: taken.busyMs,
      credit: 256,
    });
  }
  return seen;
}

/**
 * Warms the worker: the codecs now (a few ms), `fetch` by asking the master for its
 * health (what the first module fetch would otherwise pay). Never throws.
 */
export function warmUpWorker(
  master: URL,
  onError: (message: string) => void,
): void {
  retainMaps();
  try {
    warmCodecs();
  } catch (error) {
    onError(`warm-up: ${(error as Error).message}`);
  }
  fetch(new URL('/healthz', master), { signal: AbortSignal.timeout(10_000) })
    .then((response) => response.arrayBuffer())
    .catch(() => undefined); // an unreachable master is the session's business
}
