/**
 * A rehearsal of the worker's whole pipeline before it first says hello: a throwaway
 * session, on the real executor (and so through the sandbox pipe and the real task
 * threads), runs a synthetic job that an in-process stand-in for the master deals out
 * as the master would (challenge, welcome, `tasks` frames against credit, acks). The
 * code of every step is then compiled for the shapes a real job brings, so that the
 * first job runs about as fast as the next. Nothing of it leaves the process: the
 * stand-in swallows the results, and the session that held them is stopped.
 */
import { LIMITS } from '../../shared/limits.js';
import type { VolunteerProof } from '../../shared/protocol.js';
import {
  runWorkerSession,
  type Connect,
  type Executor,
} from '../../shared/worker-session.js';

/** The module of the rehearsal's tasks: no real module's SHA-256 is all zeros. */
export const REHEARSAL_MODULE = '0'.repeat(64);
/** Its source, given by the worker itself (never fetched from a master). */
export const REHEARSAL_SOURCE = 'export default (input) => input;';
/** Tasks rehearsed: enough for the compiler to optimise the per-frame code. */
export const REHEARSAL_TASKS = 16_384;
/** The rehearsal is cut short past this: a slow machine must not delay the hello long. */
const MAX_REHEARSAL_MS = 5_000;
/** The largest `tasks` frame the stand-in sends (the master's dispatch is similar). */
const MAX_FRAME_TASKS = 1_024;

const column = (count: number, f: (i: number) => string): string => {
  let text = '';
  for (let i = 0; i < count; i++) text += (i === 0 ? '' : ',') + f(i);
  return text;
};

/**
 * A `tasks` frame as the master writes it (server/master/task-frames.ts), of numbers
 * or of records: the worker takes a different path for each (shared/tasks-text.ts).
 */
export function rehearsalFrame(
  firstLease: number,
  firstIndex: number,
  count: number,
  records: boolean,
): string {
  const input = records
    ? (i: number) => `{"id":"task-${firstIndex + i}","x":${firstIndex + i}}`
    : (i: number) => String(firstIndex + i);
  return (
    `{"type":"tasks","jobs":{"warm-up":{"module":"${REHEARSAL_MODULE}","timeoutMs":60000,"name":"warm-up"}},` +
    `"groups":[{"job":"warm-up","leases":[${column(count, (i) => String(firstLease + i))}],` +
    `"indexes":[${column(count, (i) => String(firstIndex + i))}],` +
    `"attempts":[${column(count, () => '1')}],"inputs":[${column(count, input)}]}]}`
  );
}

interface StandIn {
  connect: Connect;
  /** Tasks answered so far (results and failures). */
  readonly answered: number;
}

/**
 * The master's side of a rehearsal of `tasks` tasks: it calls `onAnswered` once every
 * task has been answered and `onClosed` once the session's close has been delivered.
 */
function standIn(
  tasks: number,
  onAnswered: () => void,
  onClosed: () => void,
): StandIn {
  let answered = 0;
  const connect: Connect = (handlers) => {
    // Leases as the master issues them (from Date.now() * 1000: not small integers).
    const firstLease = Date.now() * 1_000;
    let credit = 0;
    let sent = 0;
    let frames = 0;
    let closed = false;
    // Asynchronous, as a socket is: the session never sees a frame inside its own send.
    const deliver = (frame: string) =>
      setImmediate(() => {
        if (!closed) handlers.onMessage(frame);
      });
    const pump = () => {
      while (credit > 0 && sent < tasks) {
        const count = Math.min(credit, tasks - sent, MAX_FRAME_TASKS);
        deliver(
          rehearsalFrame(firstLease + sent, sent, count, frames++ % 2 === 1),
        );
        credit -= count;
        sent += count;
      }
    };
    const onWorkerFrame = (frame: string | Uint8Array): void => {
      if (closed || typeof frame !== 'string') return;
      const message = JSON.parse(frame) as {
        type?: unknown;
        credit?: unknown;
        leases?: unknown[];
        failures?: unknown[];
      };
      if (message.type === 'hello')
        deliver(
          JSON.stringify({
            type: 'welcome',
            workerId: 'warm-up',
            heartbeatMs: 60_000,
            limits: {
              maxPayloadBytes: 64 * 1024 * 1024,
              maxBatch: LIMITS.maxBatch,
              maxCredit: LIMITS.maxCredit,
            },
          }),
        );
      if (message.type === 'results') {
        const count =
          (message.leases?.length ?? 0) + (message.failures?.length ?? 0);
        answered += count;
        if (count > 0) deliver(`{"type":"ack","count":${count}}`);
      }
      if (typeof message.credit === 'number') credit += message.credit;
      if (answered >= tasks) onAnswered();
      else pump();
    };
    setImmediate(() => {
      handlers.onOpen();
      deliver('{"type":"challenge","nonce":"warm-up"}');
    });
    return {
      send: onWorkerFrame,
      close: (code, reason) => {
        if (closed) return;
        closed = true;
        setImmediate(() => {
          handlers.onClose(code, reason);
          onClosed();
        });
      },
    };
  };
  return {
    connect,
    get answered() {
      return answered;
    },
  };
}

/** Never checked: the stand-in takes any hello. */
const NO_PROOF: VolunteerProof = { publicKey: 'warm-up', signature: 'warm-up' };

/**
 * Runs the rehearsal on `executor` (whose module loader must give
 * {@link REHEARSAL_SOURCE} for {@link REHEARSAL_MODULE}); resolves with the tasks
 * answered once its session is closed and the executor holds nothing of it. Never
 * rejects: a rehearsal that fails or stalls costs the first job its speed, nothing else.
 */
export function rehearse(
  executor: Executor,
  tasks = REHEARSAL_TASKS,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      clearTimeout(limit);
      // Out of the stand-in's send: the session is mid-call there.
      setImmediate(() => session.stop());
    };
    const master = standIn(tasks, stop, () => resolve(master.answered));
    const limit = setTimeout(stop, MAX_REHEARSAL_MS);
    limit.unref();
    const session = runWorkerSession({
      connect: master.connect,
      executor,
      kind: 'node',
      prove: () => Promise.resolve(NO_PROOF),
      clock: {
        now: () => Date.now(),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
        random: Math.random,
      },
    });
  });
}
