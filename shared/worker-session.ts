/**
 * The worker's side of the protocol, the same for the Node worker and the browser tab:
 * handshake, credit (the prefetch window), result batching, cancel, and reconnecting
 * with jittered backoff. Only the transport (a WebSocket) and the executor (worker
 * threads, Web Workers) differ, and both are passed in.
 */
import { encodeFrame } from './codec.js';
import {
  PROTOCOL_VERSION,
  decodeWorkerBoundMessage,
  expandTasks,
  type WorkerBoundMessage,
  type TaskBatch,
  type TaskFailure,
  type WorkerKind,
  type WorkerMessage,
} from './protocol.js';
import { assertNever } from './errors.js';

/** An open connection. */
export interface Transport {
  send(frame: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

export interface TransportHandlers {
  onOpen(): void;
  onMessage(frame: string | Uint8Array): void;
  onClose(code: number, reason: string): void;
}

/** Opens a connection to the master's `/ws`; reports through the handlers. */
export type Connect = (handlers: TransportHandlers) => Transport;

/** How some tasks ended: successes column by column (`outputs[i]` of `leases[i]`), failures apart. */
export interface Outcomes {
  leases: number[];
  outputs: unknown[];
  failures: TaskFailure[];
}

/**
 * Runs tasks on `slots` threads. Each task's lease appears in exactly one `onDone`
 * call (unless cancelled); a call may report any number of tasks of the batch.
 */
export interface Executor {
  readonly slots: number;
  /** Queues a batch; the executor runs its tasks as slots free up. */
  submit(batch: TaskBatch, onDone: (outcomes: Outcomes) => void): void;
  /** Drops these leases: queued ones are forgotten, running ones stopped. No `onDone` follows. */
  cancel(leases: readonly number[]): void;
  /** Cancels everything (the connection is gone: the master re-queued them). */
  cancelAll(): void;
  /** Tasks queued or running. */
  readonly pending: number;
  /**
   * Set by the session to hear `ctx.progress(fraction)` of running tasks. The executor
   * calls it only for leases it holds and that are not cancelled, with a fraction in
   * 0..1; an executor without it never reports progress.
   */
  onProgress?: ProgressListener | null;
}

/** Progress of a running task: its lease and a fraction, 0..1. */
export type ProgressListener = (lease: number, fraction: number) => void;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

export type SessionState =
  'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface SessionStatus {
  state: SessionState;
  workerId: string | null;
  /** Name of the job of the latest task received. */
  jobName: string | null;
  /** Results acknowledged by the master (committed). */
  done: number;
  /** Tasks held: queued or running here. */
  inFlight: number;
  /** Why the last connection closed, if it did. */
  lastClose: string | null;
}

export interface WorkerSessionOptions {
  connect: Connect;
  executor: Executor;
  kind: WorkerKind;
  name?: string;
  clock: Clock;
  /** Called on every change of status. */
  onStatus?: (status: SessionStatus) => void;
  /** Called on error frames and odd events, for logs. */
  onLog?: (level: 'info' | 'warn', message: string) => void;
  /**
   * Work to hold per slot, in milliseconds of measured task time: the prefetch window
   * grows for tiny tasks (many ride in a frame) and stays at ~2 per slot for slow ones.
   * @defaultValue 100
   */
  targetQueueMs?: number;
  /** Cap on the prefetch window. @defaultValue 4 096 */
  maxWindow?: number;
  /** A fixed prefetch window (e.g. 1 for one task at a time); disables adaptation. */
  fixedWindow?: number;
  /** Reconnect backoff bounds. @defaultValue 250 and 10 000 */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface WorkerSession {
  readonly status: SessionStatus;
  /** Closes the connection for good (code 1000) and stops reconnecting. */
  stop(): void;
}

const MAX_RESULTS_PER_FRAME = 2_000;
const FLUSH_DELAY_MS = 4;
/** At most one `progress` frame per lease in this many ms; later reports coalesce. */
export const PROGRESS_EVERY_MS = 250;
/** Shortest interval over which the task rate is measured. */
const MEASURE_MS = 50;

/** Starts a session that stays connected (reconnecting as needed) until `stop()`. */
export function runWorkerSession(options: WorkerSessionOptions): WorkerSession {
  const { executor, clock } = options;
  const targetQueueMs = options.targetQueueMs ?? 100;
  const maxWindow = options.maxWindow ?? 4_096;
  const minBackoffMs = options.minBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;

  const status: SessionStatus = {
    state: 'connecting',
    workerId: null,
    jobName: null,
    done: 0,
    inFlight: 0,
    lastClose: null,
  };
  let transport: Transport | null = null;
  let stopped = false;
  let failures = 0;
  let reconnectTimer: unknown = null;
  let flushTimer: unknown = null;
  /** Results not sent yet, in the columns of a `results` frame. */
  let outbox: Outcomes = { leases: [], outputs: [], failures: [] };
  const outboxSize = (): number =>
    outbox.leases.length + outbox.failures.length;
  /** Credit the master believes we have (granted minus tasks received). */
  let creditOut = 0;
  let window = options.fixedWindow ?? executor.slots * 2;
  /** Smoothed completions per ms while busy (0: not measured yet). */
  let ratePerMs = 0;
  /** Start of the current measurement while busy (0: idle). */
  let busySince = 0;
  let completedSinceMeasure = 0;
  /**
   * Progress of held leases: when each last sent a frame, and the latest fraction not
   * sent yet (coalesced). Only leases whose tasks report progress are here, and each
   * leaves when its task ends or is cancelled: bounded by the leases held.
   */
  const progressSentAt = new Map<number, number>();
  const progressDue = new Map<number, number>();
  let progressTimer: unknown = null;
  let progressTimerAt = Infinity;

  const setStatus = (patch: Partial<SessionStatus>): void => {
    Object.assign(status, patch);
    options.onStatus?.({ ...status });
  };

  const send = (message: WorkerMessage): void => {
    transport?.send(encodeFrame(message));
  };

  /**
   * Sizes the window to hold `targetQueueMs` of work at the measured rate (plus one per
   * slot): tiny tasks ride many to a frame, slow ones stay at two per slot, so a slow
   * worker never sits on work that idle workers could take.
   */
  const measure = (now: number, completed: number): void => {
    completedSinceMeasure += completed;
    const elapsed = now - busySince;
    if (busySince === 0 || elapsed < MEASURE_MS) return;
    const rate = completedSinceMeasure / elapsed;
    ratePerMs = ratePerMs === 0 ? rate : ratePerMs * 0.7 + rate * 0.3;
    busySince = now;
    completedSinceMeasure = 0;
    if (options.fixedWindow !== undefined) return;
    const wanted = Math.ceil(ratePerMs * targetQueueMs) + executor.slots;
    // Grow at once; shrink only when clearly too big (slow tasks), so that the window
    // does not flap between this estimate and the doubling below.
    if (wanted > window || wanted < window / 2) {
      window = Math.min(maxWindow, Math.max(executor.slots * 2, wanted));
    }
  };

  /** Tops the master's view of our credit back up to the window. */
  /** Credit to grant now to top the master's view back up to the window (0: none). */
  const creditDue = (): number => {
    const want = window - creditOut - executor.pending;
    // Grant in chunks, not one by one, so that credit frames stay rare.
    if (
      want > 0 &&
      (want >= Math.max(1, window / 4) || executor.pending === 0)
    ) {
      creditOut += want;
      return want;
    }
    return 0;
  };

  const grantCredit = (): void => {
    const credit = creditDue();
    if (credit > 0) send({ type: 'ready', credit });
  };

  const flush = (): void => {
    if (flushTimer !== null) {
      clock.clearTimeout(flushTimer);
      flushTimer = null;
    }
    // Status once per flush, not per task: tiny tasks finish by the hundred thousand.
    setStatus({ inFlight: executor.pending });
    if (outboxSize() === 0) {
      grantCredit();
      return;
    }
    while (outboxSize() > 0) {
      let batch = outbox;
      if (outboxSize() <= MAX_RESULTS_PER_FRAME) {
        outbox = { leases: [], outputs: [], failures: [] };
      } else {
        // Too many for one frame: failures first (they are rare), then successes.
        const failures = outbox.failures.splice(0, MAX_RESULTS_PER_FRAME);
        const room = MAX_RESULTS_PER_FRAME - failures.length;
        batch = {
          leases: outbox.leases.splice(0, room),
          outputs: outbox.outputs.splice(0, room),
          failures,
        };
      }
      // The last frame of the flush carries the new credit: one frame, not two.
      const credit = outboxSize() === 0 ? creditDue() : 0;
      send({
        type: 'results',
        leases: batch.leases,
        outputs: batch.outputs,
        ...(batch.failures.length > 0 ? { failures: batch.failures } : {}),
        ...(credit > 0 ? { credit } : {}),
      });
    }
  };

  /** Forgets the progress of leases that ended here (done or cancelled). */
  const forgetProgress = (leases: readonly number[]): void => {
    for (const lease of leases) {
      progressSentAt.delete(lease);
      progressDue.delete(lease);
    }
  };

  const clearProgress = (): void => {
    progressSentAt.clear();
    progressDue.clear();
    if (progressTimer !== null) {
      clock.clearTimeout(progressTimer);
      progressTimer = null;
    }
    progressTimerAt = Infinity;
  };

  /** Arms the progress timer for `at` unless it already fires by then. */
  const armProgress = (at: number, now: number): void => {
    if (progressTimer !== null) {
      if (progressTimerAt <= at) return;
      clock.clearTimeout(progressTimer);
    }
    progressTimerAt = at;
    progressTimer = clock.setTimeout(sendDueProgress, at - now);
  };

  /** Sends the coalesced fractions whose lease may send again; re-arms for the rest. */
  const sendDueProgress = (): void => {
    progressTimer = null;
    progressTimerAt = Infinity;
    const now = clock.now();
    let next = Infinity;
    for (const [lease, fraction] of progressDue) {
      const at = (progressSentAt.get(lease) ?? 0) + PROGRESS_EVERY_MS;
      if (at <= now) {
        progressDue.delete(lease);
        progressSentAt.set(lease, now);
        send({ type: 'progress', lease, fraction });
      } else next = Math.min(next, at);
    }
    if (next !== Infinity) armProgress(next, now);
  };

  const onProgress = (lease: number, fraction: number): void => {
    if (
      transport === null ||
      status.state !== 'connected' ||
      !(fraction >= 0 && fraction <= 1)
    )
      return;
    const now = clock.now();
    const sentAt = progressSentAt.get(lease);
    if (sentAt === undefined || now - sentAt >= PROGRESS_EVERY_MS) {
      progressDue.delete(lease);
      progressSentAt.set(lease, now);
      send({ type: 'progress', lease, fraction });
      return;
    }
    progressDue.set(lease, fraction);
    armProgress(sentAt + PROGRESS_EVERY_MS, now);
  };
  executor.onProgress = onProgress;

  const onTasksDone = (done: Outcomes): void => {
    // Only tasks that reported progress have any: nothing to do per task otherwise.
    if (progressSentAt.size > 0) {
      forgetProgress(done.leases);
      for (const { lease } of done.failures) {
        progressSentAt.delete(lease);
        progressDue.delete(lease);
      }
    }
    measure(clock.now(), done.leases.length + done.failures.length);
    if (executor.pending === 0) {
      // Idle time is not task time: measure again from the next batch.
      busySince = 0;
      completedSinceMeasure = 0;
      // Ran dry while the master owed us nothing: the window was too small to cover
      // the round trip. Grow it; `measure` trims it again for slow tasks.
      if (creditOut === 0 && options.fixedWindow === undefined) {
        window = Math.min(maxWindow, window * 2);
      }
    }
    for (let i = 0; i < done.leases.length; i++) {
      outbox.leases.push(done.leases[i] as number);
      outbox.outputs.push(done.outputs[i]);
    }
    for (const failure of done.failures) outbox.failures.push(failure);
    // Send at once when idle (latency), else gather what finishes within a moment.
    if (executor.pending === 0 || outboxSize() >= MAX_RESULTS_PER_FRAME)
      flush();
    else flushTimer ??= clock.setTimeout(flush, FLUSH_DELAY_MS);
  };

  const onMessage = (frame: string | Uint8Array): void => {
    const decoded = decodeWorkerBoundMessage(frame);
    if (!decoded.ok) {
      options.onLog?.(
        'warn',
        `ignored a malformed frame from the master: ${decoded.error}`,
      );
      return;
    }
    handle(decoded.value);
  };

  const handle = (message: WorkerBoundMessage): void => {
    switch (message.type) {
      case 'welcome':
        failures = 0;
        creditOut = 0;
        setStatus({
          state: 'connected',
          workerId: message.workerId,
          lastClose: null,
        });
        grantCredit();
        return;
      case 'tasks': {
        let jobName: string | undefined;
        for (const batch of expandTasks(message)) {
          creditOut = Math.max(0, creditOut - batch.leases.length);
          jobName = batch.name;
          if (busySince === 0) busySince = clock.now();
          executor.submit(batch, onTasksDone);
        }
        setStatus({
          inFlight: executor.pending,
          ...(jobName ? { jobName } : {}),
        });
        return;
      }
      case 'cancel':
        executor.cancel(message.leases);
        if (progressSentAt.size > 0) forgetProgress(message.leases);
        setStatus({ inFlight: executor.pending });
        grantCredit();
        return;
      case 'ack':
        setStatus({ done: status.done + message.count });
        return;
      case 'error':
        options.onLog?.('warn', `master: ${message.code}: ${message.message}`);
        return;
      default:
        assertNever(message);
    }
  };

  const connect = (): void => {
    if (stopped) return;
    setStatus({ state: 'connecting' });
    transport = options.connect({
      onOpen: () => {
        send({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          kind: options.kind,
          slots: executor.slots,
          ...(options.name ? { name: options.name } : {}),
        });
      },
      onMessage,
      onClose: (code, reason) => {
        transport = null;
        // The master re-queued whatever we held: drop it rather than finish it twice.
        executor.cancelAll();
        outbox = { leases: [], outputs: [], failures: [] };
        creditOut = 0;
        clearProgress();
        if (flushTimer !== null) {
          clock.clearTimeout(flushTimer);
          flushTimer = null;
        }
        const lastClose = `${code}${reason ? ` ${reason}` : ''}`;
        if (stopped) {
          setStatus({ state: 'stopped', inFlight: 0, lastClose });
          return;
        }
        setStatus({ state: 'disconnected', inFlight: 0, lastClose });
        if (code === 4426) {
          options.onLog?.(
            'warn',
            `the master refused this protocol version: ${reason}`,
          );
        }
        // Equal jitter (half the ceiling, plus up to half at random): spreads a crowd.
        failures++;
        const ceiling = Math.min(
          maxBackoffMs,
          minBackoffMs * 2 ** Math.min(failures, 16),
        );
        const delay = Math.round(ceiling / 2 + clock.random() * (ceiling / 2));
        reconnectTimer = clock.setTimeout(() => {
          reconnectTimer = null;
          connect();
        }, delay);
      },
    });
  };

  connect();

  return {
    get status() {
      return { ...status };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (reconnectTimer !== null) clock.clearTimeout(reconnectTimer);
      clearProgress();
      if (transport) {
        flush();
        transport.close(1000, 'worker stopping');
      } else {
        setStatus({ state: 'stopped' });
      }
      executor.cancelAll();
    },
  };
}
