/**
 * The worker's executor when task code runs in a sandbox: forwards batches to a child
 * process (started by `childCommand`) over a pipe, where the real thread pool runs.
 * Everything the child sends is checked here, since task code runs inside it: only
 * tasks this side handed over and still holds are reported, each once (held.ts,
 * accept-done.ts). If the child dies, its tasks are reported as crashed (which one
 * killed it is not known then) and a new child is started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Lease, TaskBatch } from '../../../shared/protocol.js';
import { checkpointState } from '../../../shared/runner/checkpoint.js';
import { BatchSizer } from '../../../shared/executor/batch-size.js';
import type {
  CheckpointListener,
  Executor,
  ProgressListener,
} from '../../../shared/worker-session.js';
import { acceptDone } from './accept-done.js';
import { FrameReader, encodeFrame } from './frames.js';
import { HeldBatches, type HeldBatch, type OnDone } from './held.js';
import {
  PIPE_FD,
  threadFd,
  type ChildOptions,
  type ToChild,
} from './messages.js';
import { sampleDone, splitBatch, threadDied } from './routing.js';
import type { ChildCommand } from './modes.js';

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

export class SandboxedExecutor implements Executor {
  readonly slots: number;
  onProgress: ProgressListener | null = null;
  onCheckpoint: CheckpointListener | null = null;
  #options: SandboxedExecutorOptions;
  /** Tasks handed to the child and not reported yet, with whom to tell. */
  #held = new HeldBatches();
  #modules = new Map<string, Promise<string>>();
  #child: ChildProcess | null = null;
  /** Control messages (fd 3 in the child). */
  #pipe: Socket | null = null;
  /** Each task thread's own pipe: its batches in, its outcomes out. */
  #threadPipes: Socket[] = [];
  /** Task time per module, measured by the threads: how finely to split batches. */
  #sizer = new BatchSizer(1_024, 2);
  #startedAt = 0;
  #restartDelayMs = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #stderr = '';
  #backlog: { batch: TaskBatch; held: HeldBatch }[] = [];
  #closed = false;
  #corked = new Set<Socket>();
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
    for (const part of splitBatch(batch, this.slots, this.#sizer))
      this.#handOver(part, onDone);
  }

  /** Holds a batch and sends it to the thread holding the fewest tasks. */
  #handOver(batch: TaskBatch, onDone: OnDone): void {
    let pipe = 0;
    for (let k = 1; k < this.slots; k++)
      if (this.#held.loadOf(k) < this.#held.loadOf(pipe)) pipe = k;
    const held = this.#held.add(batch.leases, onDone, pipe, batch);
    // While the child restarts, batches wait for the new one.
    if (this.#pipe) this.#submitTo(held, batch);
    else this.#backlog.push({ batch, held });
  }

  #submitTo(held: HeldBatch, batch: TaskBatch): void {
    const pipe = this.#threadPipes[held.pipe];
    if (pipe)
      this.#write(pipe, encodeFrame({ t: 'submit', batch, first: held.first }));
  }

  cancel(leases: readonly Lease[]): void {
    for (const [thread, ids] of this.#held.cancelByPipe(leases))
      this.#send({ t: 'cancel', leases: ids, thread });
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
    const waiting = this.#backlog;
    this.#backlog = [];
    for (const { held } of waiting) {
      const skipped = this.#held.releaseBatch(held);
      if (skipped.length > 0)
        held.onDone({ leases: [], outputs: [], failures: [], skipped });
    }
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
    const threadPipes = Array.from(
      { length: this.slots },
      () => 'pipe' as const,
    );
    const child = spawn(command, args, {
      env,
      cwd,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...threadPipes],
    });
    this.#child = child;
    this.#startedAt = Date.now();
    this.#stderr = '';
    const pipe = child.stdio[PIPE_FD] as Socket;
    this.#pipe = pipe;
    this.#threadPipes = threadPipes.map(
      (_, k) => child.stdio[threadFd(k)] as Socket,
    );
    if (this.#share !== 100) this.#send({ t: 'share', percent: this.#share });
    if (this.#paused) this.#send({ t: 'pause' });
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const { batch, held } of backlog)
      if (held.left > 0) this.#submitTo(held, batch);
    for (const socket of [pipe, ...this.#threadPipes]) {
      const reader = new FrameReader(
        (message) => this.#onMessage(message),
        (reason) => {
          this.#log(
            'error',
            `the sandbox process sent ${reason}; restarting it`,
          );
          child.kill('SIGKILL');
        },
      );
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.on('error', () => child.kill('SIGKILL'));
    }
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
    this.#threadPipes = [];
    if (this.#closed) return;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const tail = this.#stderr.trim();
    this.#log(
      'error',
      `the sandbox process ended (${how})${tail ? `: ${tail.slice(-500)}` : ''}; restarting it`,
    );
    this.#held.crashAll(`the sandbox process running the task ended (${how})`);
    const quick = Date.now() - this.#startedAt < QUICK_DEATH_MS;
    this.#restartDelayMs = quick
      ? Math.min(MAX_RESTART_DELAY_MS, Math.max(100, this.#restartDelayMs * 2))
      : 0;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (!this.#closed) this.#start();
    }, this.#restartDelayMs);
  }

  #send(message: ToChild): void {
    if (this.#pipe) this.#write(this.#pipe, encodeFrame(message));
  }

  /** Writes of one tick to a pipe leave in one write. */
  #write(pipe: Socket, bytes: Buffer): void {
    if (!this.#corked.has(pipe)) {
      this.#corked.add(pipe);
      pipe.cork();
      process.nextTick(() => {
        this.#corked.delete(pipe);
        pipe.uncork();
      });
    }
    pipe.write(bytes);
  }

  #onMessage(raw: unknown): void {
    if (raw === null || typeof raw !== 'object') return;
    const message = raw as Record<string, unknown>;
    switch (message.t) {
      case 'done':
        sampleDone(this.#sizer, this.#held, message);
        for (const [onDone, outcomes] of acceptDone(this.#held, message))
          onDone(outcomes);
        return;
      case 'died': {
        const { told, again } = threadDied(this.#held, message);
        for (const { batch, onDone } of again) this.#handOver(batch, onDone);
        for (const [onDone, outcomes] of told) onDone(outcomes);
        return;
      }
      case 'progress': {
        const { lease: id, fraction } = message;
        const lease =
          typeof id === 'number' ? this.#held.leaseOf(id) : undefined;
        if (
          lease !== undefined &&
          typeof fraction === 'number' &&
          fraction >= 0 &&
          fraction <= 1
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
  #onCheckpoint(id: unknown, state: unknown): void {
    const lease = typeof id === 'number' ? this.#held.leaseOf(id) : undefined;
    if (lease === undefined || !this.onCheckpoint) return;
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
