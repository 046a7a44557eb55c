/**
 * The worker's side of the protocol, the same for the Node worker and the browser tab:
 * handshake, credit (the prefetch window), result batching, cancel, and reconnecting
 * with jittered backoff. Only the transport (a WebSocket) and the executor (worker
 * threads, Web Workers) differ, and both are passed in.
 */
import { encodeMessage } from './json-text.js';
import {
  decodeWorkerBoundMessage,
  expandTasks,
  type TaskBatch,
  type WorkerBoundMessage,
  type WorkerMessage,
} from './protocol.js';
import { assertNever } from './errors.js';
import { reconnectDelay } from './session/backoff.js';
import { CreditWindow } from './session/credit-window.js';
import { sayHello, type Prove } from './session/hello.js';
import type { Clock, Executor, Transport } from './session/ports.js';
import type { Outcomes } from './session/results-outbox.js';
import { ResultsSender } from './session/results-sender.js';
import type {
  SessionStatus,
  WorkerSession,
  WorkerSessionOptions,
} from './session/session-api.js';
import { TaskReports } from './session/task-reports.js';
import { recordTasks } from './tasks-text.js';

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
export type {
  SessionState,
  SessionStatus,
  WorkerSession,
  WorkerSessionOptions,
} from './session/session-api.js';

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
  readonly #results: ResultsSender;
  /** Progress and checkpoints of the tasks held, throttled per lease. */
  readonly #reports: TaskReports;
  #transport: Transport | null = null;
  #stopped = false;
  /** Closes in a row without a welcome, for the reconnect backoff. */
  #failures = 0;
  #reconnectTimer: unknown = null;
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
    const send = (message: WorkerMessage): void => this.#send(message);
    this.#results = new ResultsSender(options.clock, send);
    this.#reports = new TaskReports(options.clock, send);
    this.#executor.onProgress = (lease, fraction) => {
      if (this.#reporting) this.#reports.progress(lease, fraction);
    };
    this.#executor.onCheckpoint = (lease, state) => {
      if (this.#reporting) this.#reports.checkpoint(lease, state);
    };
  }

  /** Reports go only to a master that welcomed this connection. */
  get #reporting(): boolean {
    return this.#transport !== null && this.status.state === 'connected';
  }

  #setStatus(patch: Partial<SessionStatus>): void {
    Object.assign(this.status, patch);
    this.#options.onStatus?.({ ...this.status });
  }

  #send(message: WorkerMessage): void {
    // Outputs held as JSON text (json-text.ts) are spliced in, not encoded again.
    this.#transport?.send(encodeMessage(message));
  }

  #grantCredit(): void {
    if (this.#releasing) return;
    const credit = this.#credit.due(this.#executor.pending);
    if (credit > 0) this.#send({ type: 'ready', credit });
  }

  /** Sends what the outbox holds; the last frame carries the new credit. */
  #flush = (): void => {
    this.#results.cancelTimer();
    // Status once per flush, not per task: tiny tasks finish by the hundred thousand.
    this.#setStatus({ inFlight: this.#executor.pending });
    if (this.#results.size === 0) {
      this.#grantCredit();
      return;
    }
    this.#unacked += this.#results.sendAll(() =>
      this.#releasing ? 0 : this.#credit.due(this.#executor.pending),
    );
  };

  /** The executor finished some tasks: queue their results, send soon. */
  #onTasksDone = (done: Outcomes): void => {
    this.#reports.ended(done);
    const executor = this.#executor;
    if (this.#credit.wantsBusy && done.busyMs && done.busyMs.length > 0) {
      let busyMs = 0;
      for (const ms of done.busyMs) busyMs += ms;
      this.#credit.busy(done.busyMs.length, busyMs);
    }
    this.#credit.completed(
      done.leases.length + done.failures.length,
      this.#clock.now(),
      executor.pending,
    );
    this.#results.add(done);
    // Sent at once when idle (latency), else after a moment (longer if no credit due).
    if (executor.pending === 0 || this.#results.full) this.#flush();
    else
      this.#results.flushSoon(
        this.#flush,
        this.#credit.wants(executor.pending),
      );
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
    // Records stay JSON text up to the task thread (the usual decoder if not taken).
    const batches = recordTasks(frame);
    if (batches) return this.#onTasks(batches);
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
        this.#onTasks(expandTasks(message));
        return;
      case 'cancel':
        this.#executor.cancel(message.leases);
        this.#reports.cancelled(message.leases);
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

  #onTasks(batches: TaskBatch[]): void {
    // Sent before the pause was known: the close releases them, unstarted.
    if (this.#releasing) return;
    let jobName: string | undefined;
    let jobId: string | undefined;
    for (const batch of batches) {
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
      onTasks: (batches) => this.#onTasks(batches),
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
    this.#results.clear();
    this.#credit.creditOut = 0;
    this.#reports.clear();
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
    this.#reports.clear();
    if (this.#transport) {
      this.#flush();
      this.#transport.close(1000, 'worker stopping');
    } else {
      this.#setStatus({ state: 'stopped' });
    }
    this.#executor.cancelAll();
  }
}
