/**
 * The worker's executor when task code runs in a sandbox: forwards batches to a child
 * process (started by `childCommand`) over a pipe, where the real thread pool runs.
 * Everything the child sends is checked here, since task code runs inside it: only
 * leases this side handed over and still holds are reported, each once. If the child
 * dies, its tasks are reported as crashed (which one killed it is not known then) and a
 * new child is started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import {
  LIMITS,
  type Lease,
  type TaskBatch,
  type TaskFailure,
} from '../../../shared/protocol.js';
import { checkedText } from '../../../shared/json-text.js';
import { checkpointState } from '../../../shared/runner/checkpoint.js';
import type {
  CheckpointListener,
  Executor,
  Outcomes,
  ProgressListener,
} from '../../../shared/worker-session.js';
import { FrameReader, encodeFrame } from './frames.js';
import { PIPE_FD, type ChildOptions, type ToChild } from './messages.js';
import type { ChildCommand } from './modes.js';

type OnDone = (outcomes: Outcomes) => void;

export interface SandboxedExecutorOptions extends ChildOptions {
  /** How to start the child (see modes.ts). */
  command: ChildCommand;
  /** Fetches and checks a module's text (the child has no network). */
  loadModule(hash: string): Promise<string>;
  onLog?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** A child that dies sooner than this after its start is restarted after a pause. */
const QUICK_DEATH_MS = 1_000;
const MAX_RESTART_DELAY_MS = 10_000;
/** The tail of the child's stderr kept to explain its death. */
const STDERR_TAIL = 2_048;
const MAX_MODULE_CACHE = 32;

const isLease = (v: unknown): v is Lease =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export class SandboxedExecutor implements Executor {
  readonly slots: number;
  onProgress: ProgressListener | null = null;
  onCheckpoint: CheckpointListener | null = null;
  #options: SandboxedExecutorOptions;
  /** Leases handed to the child and not reported yet, with whom to tell. */
  #held = new Map<Lease, OnDone>();
  #modules = new Map<string, Promise<string>>();
  #child: ChildProcess | null = null;
  #pipe: Socket | null = null;
  #startedAt = 0;
  #restartDelayMs = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #stderr = '';
  #backlog: TaskBatch[] = [];
  #closed = false;
  #corked = false;
  /** The volunteer's controls, passed on to every child started. */
  #share = 100;
  #paused = false;

  constructor(options: SandboxedExecutorOptions) {
    this.#options = options;
    this.slots = options.threads;
    this.#start();
  }

  get pending(): number {
    return this.#held.size;
  }

  submit(batch: TaskBatch, onDone: OnDone): void {
    if (batch.leases.length === 0) return;
    for (const lease of batch.leases) this.#held.set(lease, onDone);
    // While the child restarts, batches wait for the new one.
    if (this.#pipe) this.#send({ t: 'submit', batch });
    else this.#backlog.push(batch);
  }

  cancel(leases: readonly Lease[]): void {
    const mine = leases.filter((lease) => this.#held.delete(lease));
    if (mine.length > 0) this.#send({ t: 'cancel', leases: mine });
  }

  cancelAll(): void {
    this.#held.clear();
    this.#backlog = [];
    this.#send({ t: 'cancel-all' });
  }

  setShare(percent: number): void {
    this.#share = percent;
    this.#send({ t: 'share', percent });
  }

  pause(): void {
    this.#paused = true;
    // Batches waiting for a restarting child never started: they come back skipped.
    const waiting = this.#backlog.flatMap((batch) => batch.leases);
    this.#backlog = [];
    this.#onDone({ leases: [], outputs: [], failures: [], skipped: waiting });
    this.#send({ t: 'pause' });
  }

  resume(): void {
    this.#paused = false;
    this.#send({ t: 'resume' });
  }

  /** Stops the child (it also dies with this process). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => resolve()),
    );
    child.kill('SIGKILL');
    await exited;
  }

  #start(): void {
    const { command, args, env, cwd } = this.#options.command;
    const child = spawn(command, args, {
      env,
      cwd,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#startedAt = Date.now();
    this.#stderr = '';
    const pipe = child.stdio[PIPE_FD] as Socket;
    this.#pipe = pipe;
    if (this.#share !== 100) this.#send({ t: 'share', percent: this.#share });
    if (this.#paused) this.#send({ t: 'pause' });
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const batch of backlog) this.#send({ t: 'submit', batch });
    const reader = new FrameReader(
      (message) => this.#onMessage(message),
      (reason) => {
        this.#log('error', `the sandbox process sent ${reason}; restarting it`);
        child.kill('SIGKILL');
      },
    );
    pipe.on('data', (chunk: Buffer) => reader.push(chunk));
    pipe.on('error', () => child.kill('SIGKILL'));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(
        -STDERR_TAIL,
      );
    });
    child.on('error', (error) =>
      this.#log('error', `sandbox process: ${error.message}`),
    );
    child.on('exit', (code, signal) => this.#onExit(child, code, signal));
  }

  #onExit(
    child: ChildProcess,
    code: number | null,
    signal: string | null,
  ): void {
    if (child !== this.#child) return;
    this.#child = null;
    this.#pipe = null;
    if (this.#closed) return;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const tail = this.#stderr.trim();
    this.#log(
      'error',
      `the sandbox process ended (${how})${tail ? `: ${tail.slice(-500)}` : ''}; restarting it`,
    );
    this.#crashAll(`the sandbox process running the task ended (${how})`, [
      ...this.#held.keys(),
    ]);
    const quick = Date.now() - this.#startedAt < QUICK_DEATH_MS;
    this.#restartDelayMs = quick
      ? Math.min(MAX_RESTART_DELAY_MS, Math.max(100, this.#restartDelayMs * 2))
      : 0;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (!this.#closed) this.#start();
    }, this.#restartDelayMs);
  }

  /** Reports these held leases as crashed (the child that ran them is gone). */
  #crashAll(reason: string, leases: readonly Lease[]): void {
    const byDone = new Map<OnDone, TaskFailure[]>();
    for (const lease of leases) {
      const onDone = this.#held.get(lease);
      if (!onDone) continue;
      this.#held.delete(lease);
      const list = byDone.get(onDone) ?? [];
      list.push({ lease, error: reason, kind: 'crash' });
      byDone.set(onDone, list);
    }
    for (const [onDone, failures] of byDone)
      onDone({ leases: [], outputs: [], failures });
  }

  #send(message: ToChild): void {
    const pipe = this.#pipe;
    if (!pipe) return;
    // Messages of one tick leave in one write.
    if (!this.#corked) {
      this.#corked = true;
      pipe.cork();
      process.nextTick(() => {
        this.#corked = false;
        pipe.uncork();
      });
    }
    pipe.write(encodeFrame(message));
  }

  #onMessage(raw: unknown): void {
    if (raw === null || typeof raw !== 'object') return;
    const message = raw as Record<string, unknown>;
    switch (message.t) {
      case 'done':
        this.#onDone(message);
        return;
      case 'progress': {
        const { lease, fraction } = message;
        if (
          isLease(lease) &&
          typeof fraction === 'number' &&
          fraction >= 0 &&
          fraction <= 1 &&
          this.#held.has(lease)
        )
          this.onProgress?.(lease, fraction);
        return;
      }
      case 'checkpoint':
        this.#onCheckpoint(message.lease, message.state);
        return;
      case 'need':
        if (typeof message.hash === 'string') this.#provide(message.hash);
        return;
      case 'log':
        if (typeof message.message === 'string')
          this.#log('warn', `sandbox: ${message.message.slice(0, 500)}`);
        return;
      default:
        return;
    }
  }

  /**
   * A task's checkpoint, from a held lease only; the child is untrusted, so the state is
   * checked again here (JSON or bytes, bounded) and dropped if it is not.
   */
  #onCheckpoint(lease: unknown, state: unknown): void {
    if (!isLease(lease) || !this.#held.has(lease) || !this.onCheckpoint) return;
    let value: unknown;
    try {
      value = checkpointState(state);
    } catch (error) {
      this.#log(
        'warn',
        `sandbox: checkpoint dropped: ${(error as Error).message}`,
      );
      return;
    }
    this.onCheckpoint(lease, value);
  }

  /** Passes on outcomes of leases held here (each once); anything else is dropped. */
  #onDone(message: Record<string, unknown>): void {
    const { leases, outputs, failures, skipped, busyMs, texts } = message;
    const busy = Array.isArray(busyMs) ? (busyMs as unknown[]) : [];
    if (
      !Array.isArray(leases) ||
      !Array.isArray(outputs) ||
      !Array.isArray(failures)
    )
      return;
    const byDone = new Map<OnDone, Outcomes>();
    // A merged frame holds whole batches in a row: the last one found is asked first.
    let lastDone: OnDone | null = null;
    let last: Outcomes | null = null;
    const outcomesOf = (onDone: OnDone): Outcomes => {
      if (onDone === lastDone && last) return last;
      let outcomes = byDone.get(onDone);
      if (!outcomes) {
        outcomes = { leases: [], outputs: [], failures: [], busyMs: [] };
        byDone.set(onDone, outcomes);
      }
      lastDone = onDone;
      last = outcomes;
      return outcomes;
    };
    const count = Math.min(leases.length, outputs.length);
    const textAt = textPlaces(texts, count);
    for (let i = 0; i < count; i++) {
      const lease: unknown = leases[i];
      if (!isLease(lease)) continue;
      const onDone = this.#held.get(lease);
      if (!onDone) continue;
      this.#held.delete(lease);
      const outcomes = outcomesOf(onDone);
      // Task code runs in the child: an output text is scanned before it is spliced.
      const output = textAt?.has(i) ? checkedText(outputs[i]) : outputs[i];
      if (output === null && textAt?.has(i)) {
        const error = 'the sandbox sent an output that is not JSON text';
        outcomes.failures.push({ lease, error, kind: 'error' });
        continue;
      }
      outcomes.leases.push(lease);
      outcomes.outputs.push(output);
      const ms = busy[i];
      // The child is not trusted with more than a plausible number.
      outcomes.busyMs?.push(
        typeof ms === 'number' && ms >= 0 && ms <= LIMITS.maxBusyMs ? ms : 0,
      );
    }
    for (const failure of failures as unknown[]) {
      if (failure === null || typeof failure !== 'object') continue;
      const { lease, error, kind } = failure as Record<string, unknown>;
      if (!isLease(lease)) continue;
      const onDone = this.#held.get(lease);
      if (!onDone) continue;
      this.#held.delete(lease);
      outcomesOf(onDone).failures.push({
        lease,
        error: String(error).slice(0, LIMITS.maxErrorLength),
        kind: kind === 'crash' ? 'crash' : 'error',
      });
    }
    if (Array.isArray(skipped)) {
      for (const lease of skipped as unknown[]) {
        if (!isLease(lease)) continue;
        const onDone = this.#held.get(lease);
        if (!onDone) continue;
        this.#held.delete(lease);
        (outcomesOf(onDone).skipped ??= []).push(lease);
      }
    }
    for (const [onDone, outcomes] of byDone) onDone(outcomes);
  }

  #provide(hash: string): void {
    let loading = this.#modules.get(hash);
    if (!loading) {
      loading = this.#options.loadModule(hash);
      this.#modules.set(hash, loading);
      if (this.#modules.size > MAX_MODULE_CACHE)
        this.#modules.delete(this.#modules.keys().next().value as string);
    }
    const pipe = this.#pipe;
    loading.then(
      (source) => {
        if (pipe === this.#pipe) this.#send({ t: 'module', hash, source });
      },
      (error: unknown) => {
        this.#modules.delete(hash);
        const message = (error as Error).message;
        this.#log('error', message);
        if (pipe === this.#pipe)
          this.#send({ t: 'module-error', hash, message });
      },
    );
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#options.onLog?.(level, message);
  }
}

/** The places of output texts a `done` message lists (untrusted: bounded, checked). */
function textPlaces(texts: unknown, count: number): Set<number> | null {
  if (!Array.isArray(texts) || texts.length === 0) return null;
  const places = new Set<number>();
  for (const i of texts.slice(0, count) as unknown[])
    if (typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < count)
      places.add(i);
  return places;
}
