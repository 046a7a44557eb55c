/**
 * Builders for scheduler unit tests. `makeScheduler()` checks the scheduler's invariants
 * when the test ends (dask's `validate_state()` on teardown).
 */
import { onTestFinished } from 'vitest';
import type { JobOptions } from '../../shared/job.js';
import type { WorkerKind } from '../../shared/protocol.js';
import { Scheduler } from '../../server/master/scheduler/scheduler.js';
import { jobId, lease as toLease, unbranded, type Unbranded } from './ids.js';
import type {
  Assignment,
  Command,
  JobSpec,
  Lease,
  ReceivedResult,
  SchedulerOptions,
} from '../../server/master/scheduler/types.js';

/**
 * What a worker may hold when a test does not say: no bound beyond its credit, so that
 * tests of placement and fair share are about those alone. Tests of the allowance (and
 * the property test) pass `allowance: ALLOWANCE_DEFAULTS`.
 */
const UNBOUNDED = {
  startPerSlot: 1_000_000,
  maxPerSlot: 1_000_000,
  maxHeld: 1_000_000,
};

/** A scheduler that takes plain ids (`'j1'`, `'w1'`, `3`): see ./ids.ts. */
export type TestScheduler = Unbranded<Scheduler>;

export function makeScheduler(options: SchedulerOptions = {}): TestScheduler {
  const s = new Scheduler({
    ...options,
    allowance: options.allowance ?? UNBOUNDED,
  });
  onTestFinished(() => s.checkInvariants());
  return unbranded(s);
}

export const DEFAULT_JOB_OPTIONS: JobOptions = {
  timeoutMs: 60_000,
  maxAttempts: 5,
  replicas: 1,
  priority: 0,
};

export interface JobInit extends Partial<JobOptions> {
  name?: string;
  sealed?: boolean;
  createdAt?: number;
}

export function jobSpec(
  id: string,
  taskCount: number,
  init: JobInit = {},
): JobSpec {
  const { name, sealed, createdAt, ...options } = init;
  return {
    id: jobId(id),
    name: name ?? `job-${id}`,
    moduleHash: 'a'.repeat(64),
    options: { ...DEFAULT_JOB_OPTIONS, ...options },
    taskCount,
    sealed: sealed ?? true,
    createdAt: createdAt ?? 0,
  };
}

export function submit(
  s: TestScheduler,
  id: string,
  taskCount: number,
  init: JobInit = {},
  at = 0,
): Command[] {
  return s.handle({
    type: 'job-submitted',
    job: jobSpec(id, taskCount, init),
    at,
  });
}

export function join(
  s: TestScheduler,
  workerId: string,
  slots = 1,
  at = 0,
  kind: WorkerKind = 'node',
): Command[] {
  return s.handle({
    type: 'worker-joined',
    workerId,
    kind,
    name: workerId,
    slots,
    at,
  });
}

export function credit(
  s: TestScheduler,
  workerId: string,
  n: number,
  at = 0,
): Command[] {
  return s.handle({ type: 'credit-granted', workerId, credit: n, at });
}

export function leave(
  s: TestScheduler,
  workerId: string,
  clean: boolean,
  at = 0,
): Command[] {
  return s.handle({ type: 'worker-left', workerId, clean, at });
}

export function tick(s: TestScheduler, at: number): Command[] {
  return s.handle({ type: 'tick', at });
}

export function send(
  s: TestScheduler,
  workerId: string,
  results: ReceivedResult[],
  at = 0,
): Command[] {
  return s.handle({ type: 'results-received', workerId, results, at });
}

/** A successful result; the digest is the JSON of the output unless given. */
export function ok(
  lease: number,
  output: unknown = 'out',
  digest?: string,
): ReceivedResult {
  return {
    lease: toLease(lease),
    ok: true,
    output,
    digest: digest ?? JSON.stringify(output),
  };
}

/** The task threw. */
export function thrown(lease: number, error = 'boom'): ReceivedResult {
  return { lease: toLease(lease), ok: false, error, kind: 'error' };
}

/** The task killed its thread. */
export function crashed(
  lease: number,
  error = 'out of memory',
): ReceivedResult {
  return { lease: toLease(lease), ok: false, error, kind: 'crash' };
}

export function ofType<T extends Command['type']>(
  commands: readonly Command[],
  type: T,
): Extract<Command, { type: T }>[] {
  return commands.filter(
    (c): c is Extract<Command, { type: T }> => c.type === type,
  );
}

/** Every task assigned, optionally only to `workerId`. */
export function assigned(
  commands: readonly Command[],
  workerId?: string,
): Assignment[] {
  return ofType(commands, 'assign')
    .filter((c) => workerId === undefined || c.workerId === workerId)
    .flatMap((c) => c.tasks);
}

export function records(
  commands: readonly Command[],
): Extract<Command, { type: 'record' }>[] {
  return ofType(commands, 'record');
}

export function feeds(
  commands: readonly Command[],
): { kind: string; text: string }[] {
  return ofType(commands, 'feed').map((c) => ({
    kind: c.event.kind,
    text: c.event.text,
  }));
}

/** Leases cancelled per worker. */
export function cancelled(
  commands: readonly Command[],
): Record<string, Lease[]> {
  const out: Record<string, Lease[]> = {};
  for (const c of ofType(commands, 'cancel-leases')) {
    (out[c.workerId] ??= []).push(...c.leases);
  }
  return out;
}

/** True if the job runs and is not sealed: what a client may append inputs to. */
export function acceptsInputs(s: TestScheduler, id: string): boolean {
  const view = s.jobView(id);
  return view?.state === 'running' && !view.spec.sealed;
}

/** Queued tasks over all running jobs, as the views show them. */
export function totalQueued(s: TestScheduler): number {
  return s
    .jobViews()
    .filter((view) => view.state === 'running')
    .reduce((n, view) => n + view.counts.queued, 0);
}
