/**
 * The worker's side of the protocol, the same for the Node worker and the browser tab:
 * handshake, credit (the prefetch window), result batching, cancel, and reconnecting
 * with jittered backoff. Only the transport (a WebSocket) and the executor (worker
 * threads, Web Workers) differ, and both are passed in.
 */
import { encodeFrame } from './codec.js';
import {
  decodeWorkerBoundMessage,
  expandTasks,
  type Lease,
  type Standing,
  type WorkerBoundMessage,
  type WorkerId,
  type WorkerKind,
  type WorkerMessage,
} from './protocol.js';
import { assertNever } from './errors.js';
import { reconnectDelay } from './session/backoff.js';
import { CreditWindow } from './session/credit-window.js';
import { sayHello, type Prove } from './session/hello.js';
import type { Clock, Connect, Executor, Transport } from './session/ports.js';
import { CHECKPOINT_EVERY_MS, ProgressThrottle } from './session/progress.js';
import {
  MAX_RESULTS_PER_FRAME,
  ResultsOutbox,
  type Outcomes,
} from './session/results-outbox.js';

export type { Outcomes, Prove };
export type {
  CheckpointListener,
  Clock,
  Connect,
  Executor,
  ProgressListener,
  Transport,
  TransportHandlers,
} from './session/ports.js';
export { CHECKPOINT_EVERY_MS, PROGRESS_EVERY_MS } from './session/progress.js';

/** `paused`: by {@link WorkerSession.pause}, not connected, until `resume()`. */
export type SessionState =
  'connecting' | 'connected' | 'disconnected' | 'paused' | 'stopped';

export interface SessionStatus {
  state: SessionState;
  workerId: WorkerId | null;
  /** Name of the job of the latest task received. */
  jobName: string | null;
  /** Id of that job (its public description is at `GET /api/jobs/:id`). */
  jobId: string | null;
  /** What this volunteer has given the master, as its last `standing` frame said. */
  standing: Omit<Standing, 'type'> | null;
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
  /** The volunteer's proof for a challenge: `proveHello` with its keys and the host it dials. */
  prove: Prove;
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
  /**
   * Takes no more tasks and starts none of those held: the running ones finish and
   * their results are sent, then the connection closes (1000 "paused"), which makes the
   * master re-queue the tasks held but not started. Nothing finished is given back.
   */
  pause(): void;
  /** Connects again after {@link WorkerSession.pause} (at once if it is still closing). */
  resume(): void;
  /** Grows or shrinks the thread pool, and the prefetch window with it. */
  setThreads(threads: number): void;
  /** The CPU share of each thread, percent 1..100. */
  setShare(percent: number): void;
}

const FLUSH_DELAY_MS = 4;

/** Starts a session that stays connected (reconnecting as needed) until `stop()`. */
export function runWorkerSession(options: WorkerSessionOptions): WorkerSession {
  const session = new Session(options);
  session.connect();
  return {
    get status() {
      return { ...session.status };
    },
    stop: () => session.stop(),
    pause: () => session.pause(),
    resume: () => session.resume(),
    setThreads: (threads) => session.setThreads(threads),
    setShare: (percent) => options.executor.setShare?.(percent),
  };
}

/** One worker's session: the state behind {@link runWorkerSession}. */
class Session {
  readonly status: SessionStatus = {
    state: 'connecting',
    workerId: null,
    jobName: null,
    jobId: null,
    standing: null,
    done: 0,
    inFlight: 0,
    lastClose: null,
  };
  readonly #options: WorkerSessionOptions;
  readonly #executor: Executor;
  readonly #clock: Clock;
  readonly #credit: CreditWindow;
  readonly #outbox = new ResultsOutbox();
  readonly #progress: ProgressThrottle;
  /** Checkpoints: the latest state per lease, at most one frame a second each. */
  readonly #checkpoints: ProgressThrottle<unknown>;
  #transport: Transport | null = null;
  #stopped = false;
  /** Closes in a row without a welcome, for the reconnect backoff. */
  #failures = 0;
  #reconnectTimer: unknown = null;
  #flushTimer: unknown = null;
  /** Paused by the volunteer: no credit, no tasks started, no reconnecting. */
  #paused = false;
  /**
   * A pause began on this connection: it takes no tasks and closes once what runs has
   * reported (the close is what returns the tasks dropped unstarted to the master).
   */
  #releasing = false;
  #releaseClosing = false;
  /** Results sent on this connection and not acked yet (a pause waits for them). */
  #unacked = 0;

  constructor(options: WorkerSessionOptions) {
    this.#options = options;
    this.#executor = options.executor;
    this.#clock = options.clock;
    this.#credit = new CreditWindow({
      slots: options.executor.slots,
      targetQueueMs: options.targetQueueMs ?? 100,
      maxWindow: options.maxWindow ?? 4_096,
      fixedWindow: options.fixedWindow,
    });
    this.#progress = new ProgressThrottle(options.clock, (lease, fraction) =>
      this.#send({ type: 'progress', lease, fraction }),
    );
    this.#executor.onProgress = this.#onProgress;
    this.#checkpoints = new ProgressThrottle<unknown>(
      options.clock,
      (lease, state) =>
        this.#send({ type: 'checkpoint', lease, state: state as object }),
      CHECKPOINT_EVERY_MS,
    );
    this.#executor.onCheckpoint = (lease, state) => {
      if (this.#transport !== null && this.status.state === 'connected')
        this.#checkpoints.report(lease, state);
    };
  }

  #setStatus(patch: Partial<SessionStatus>): void {
    Object.assign(this.status, patch);
    this.#options.onStatus?.({ ...this.status });
  }

  #send(message: WorkerMessage): void {
    this.#transport?.send(encodeFrame(message));
  }

  #grantCredit(): void {
    if (this.#releasing) return;
    const credit = this.#credit.due(this.#executor.pending);
    if (credit > 0) this.#send({ type: 'ready', credit });
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer !== null) {
      this.#clock.clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
  }

  /** Sends what the outbox holds; the last frame carries the new credit. */
  #flush = (): void => {
    this.#clearFlushTimer();
    // Status once per flush, not per task: tiny tasks finish by the hundred thousand.
    this.#setStatus({ inFlight: this.#executor.pending });
    if (this.#outbox.size === 0) {
      this.#grantCredit();
      return;
    }
    while (this.#outbox.size > 0) {
      const batch = this.#outbox.take();
      // The last frame of the flush carries the new credit: one frame, not two.
      const credit =
        this.#outbox.size === 0 && !this.#releasing
          ? this.#credit.due(this.#executor.pending)
          : 0;
      this.#unacked += batch.leases.length + batch.failures.length;
      this.#send({
        type: 'results',
        leases: batch.leases,
        outputs: batch.outputs,
        ...(batch.leases.length > 0 ? { busyMs: batch.busyMs } : {}),
        ...(batch.failures.length > 0 ? { failures: batch.failures } : {}),
        ...(credit > 0 ? { credit } : {}),
      });
    }
  };

  #onProgress = (lease: Lease, fraction: number): void => {
    if (
      this.#transport === null ||
      this.status.state !== 'connected' ||
      !(fraction >= 0 && fraction <= 1)
    )
      return;
    this.#progress.report(lease, fraction);
  };

  /** The executor finished some tasks: queue their results, send soon. */
  #onTasksDone = (done: Outcomes): void => {
    // Only tasks that reported progress have any: nothing to do per task otherwise.
    for (const throttle of [this.#progress, this.#checkpoints]) {
      if (!throttle.active) continue;
      // A state not sent yet is of no use once the task has its result.
      throttle.forget(done.leases);
      for (const { lease } of done.failures) throttle.forget([lease]);
    }
    const executor = this.#executor;
    this.#credit.completed(
      done.leases.length + done.failures.length,
      this.#clock.now(),
      executor.pending,
    );
    this.#outbox.add(done);
    // Send at once when idle (latency), else gather what finishes within a moment.
    if (executor.pending === 0 || this.#outbox.size >= MAX_RESULTS_PER_FRAME)
      this.#flush();
    else
      this.#flushTimer ??= this.#clock.setTimeout(this.#flush, FLUSH_DELAY_MS);
    if (this.#releasing) this.#closeIfDrained();
  };

  /**
   * Pausing, nothing running, every result sent and acked (so that the count shown is
   * the master's): close, which releases what was dropped unstarted.
   */
  #closeIfDrained(): void {
    const transport = this.#transport;
    if (!transport || this.#executor.pending > 0 || this.#releaseClosing)
      return;
    this.#flush();
    if (this.#unacked > 0) return;
    this.#releaseClosing = true;
    transport.close(1000, 'paused');
  }

  pause(): void {
    if (this.#paused || this.#stopped) return;
    this.#paused = true;
    this.#executor.pause?.();
    if (this.#reconnectTimer !== null) {
      this.#clock.clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    if (!this.#transport) {
      this.#setStatus({ state: 'paused', inFlight: this.#executor.pending });
      return;
    }
    this.#releasing = true;
    this.#setStatus({ inFlight: this.#executor.pending });
    // Not welcomed yet: it holds nothing, so it may close now.
    if (this.status.state !== 'connected') {
      this.#releaseClosing = true;
      this.#transport.close(1000, 'paused');
    } else this.#closeIfDrained();
  }

  resume(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    this.#executor.resume?.();
    // Still closing to release what it dropped: #onClose connects again at once.
    if (this.#transport) return;
    this.#failures = 0;
    this.connect();
  }

  setThreads(threads: number): void {
    this.#executor.resize?.(threads);
    this.#credit.setSlots(this.#executor.slots);
    if (this.#transport && this.status.state === 'connected')
      this.#grantCredit();
  }

  #onFrame = (frame: string | Uint8Array): void => {
    const decoded = decodeWorkerBoundMessage(frame);
    if (!decoded.ok) {
      this.#options.onLog?.(
        'warn',
        `ignored a malformed frame from the master: ${decoded.error}`,
      );
      return;
    }
    this.#handle(decoded.value);
  };

  #handle(message: WorkerBoundMessage): void {
    switch (message.type) {
      case 'challenge':
        this.#sendHello(message.nonce);
        return;
      case 'welcome':
        this.#failures = 0;
        this.#unacked = 0;
        this.#credit.creditOut = 0;
        this.#setStatus({
          state: 'connected',
          workerId: message.workerId,
          lastClose: null,
        });
        this.#grantCredit();
        return;
      case 'tasks':
        this.#onTasks(message);
        return;
      case 'cancel':
        this.#executor.cancel(message.leases);
        if (this.#progress.active) this.#progress.forget(message.leases);
        if (this.#checkpoints.active) this.#checkpoints.forget(message.leases);
        this.#setStatus({ inFlight: this.#executor.pending });
        this.#grantCredit();
        return;
      case 'standing': {
        const { type: _type, ...standing } = message;
        this.#setStatus({ standing });
        return;
      }
      case 'ack':
        this.#unacked = Math.max(0, this.#unacked - message.count);
        this.#setStatus({ done: this.status.done + message.count });
        if (this.#releasing) this.#closeIfDrained();
        return;
      case 'error':
        this.#options.onLog?.(
          'warn',
          `master: ${message.code}: ${message.message}`,
        );
        return;
      default:
        assertNever(message);
    }
  }

  #onTasks(message: Extract<WorkerBoundMessage, { type: 'tasks' }>): void {
    // Sent before the pause was known: the close releases them, unstarted.
    if (this.#releasing) return;
    let jobName: string | undefined;
    let jobId: string | undefined;
    for (const batch of expandTasks(message)) {
      this.#credit.received(batch.leases.length, this.#clock.now());
      jobName = batch.name;
      jobId = batch.job;
      this.#executor.submit(batch, this.#onTasksDone);
    }
    this.#setStatus({
      inFlight: this.#executor.pending,
      ...(jobName ? { jobName } : {}),
      ...(jobId ? { jobId } : {}),
    });
  }

  connect(): void {
    if (this.#stopped) return;
    this.#setStatus({ state: 'connecting' });
    this.#transport = this.#options.connect({
      onOpen: this.#onOpen,
      onMessage: this.#onFrame,
      onClose: this.#onClose,
    });
  }

  /** The master speaks first (its `challenge`): nothing to send on open. */
  #onOpen = (): void => undefined;

  /** Signs the challenge, then says `hello` on the same connection if it is still up. */
  #sendHello(nonce: string): void {
    const transport = this.#transport;
    const { kind, name, prove } = this.#options;
    sayHello({ kind, slots: this.#executor.slots, name, prove }, nonce, {
      stillUp: () => this.#transport === transport && !this.#stopped,
      send: (hello) => this.#send(hello),
      fail: (error) => {
        this.#options.onLog?.(
          'warn',
          `could not sign the master's challenge: ${String(error)}`,
        );
        transport?.close(1000, 'no identity');
      },
    });
  }

  #onClose = (code: number, reason: string): void => {
    this.#transport = null;
    // The master re-queued whatever we held: drop it rather than finish it twice.
    this.#executor.cancelAll();
    this.#outbox.clear();
    this.#credit.creditOut = 0;
    this.#progress.clear();
    this.#checkpoints.clear();
    this.#clearFlushTimer();
    const lastClose = `${code}${reason ? ` ${reason}` : ''}`;
    const released = this.#releasing;
    this.#releasing = false;
    this.#releaseClosing = false;
    if (this.#stopped) {
      this.#setStatus({ state: 'stopped', inFlight: 0, lastClose });
      return;
    }
    if (this.#paused) {
      this.#setStatus({ state: 'paused', inFlight: 0, lastClose });
      return;
    }
    if (released) {
      // Resumed while the pause was still closing: connect again at once.
      this.connect();
      return;
    }
    this.#setStatus({ state: 'disconnected', inFlight: 0, lastClose });
    if (code === 4426) {
      this.#options.onLog?.(
        'warn',
        `the master refused this protocol version: ${reason}`,
      );
    }
    this.#failures++;
    const delay = reconnectDelay(
      this.#failures,
      this.#options.minBackoffMs ?? 250,
      this.#options.maxBackoffMs ?? 10_000,
      () => this.#clock.random(),
    );
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = null;
      this.connect();
    }, delay);
  };

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#reconnectTimer !== null)
      this.#clock.clearTimeout(this.#reconnectTimer);
    this.#progress.clear();
    this.#checkpoints.clear();
    if (this.#transport) {
      this.#flush();
      this.#transport.close(1000, 'worker stopping');
    } else {
      this.#setStatus({ state: 'stopped' });
    }
    this.#executor.cancelAll();
  }
}
