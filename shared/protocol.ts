/**
 * THE wire contract between the master, Node workers, browser workers and dashboards.
 * Every WebSocket message is defined once here as a zod schema; its TypeScript type
 * shares its name. Decode at the edge with the `decode*` helpers (they never throw);
 * build outbound messages as typed values. The prose version is docs/protocol.md.
 */
import * as z from 'zod';
import { ErrorCode } from './errors.js';
import { decodeFrame } from './codec.js';

/** Bumped on any incompatible change; `hello.protocol` must equal it. */
export const PROTOCOL_VERSION = 1;

/** Upper bounds that keep every message bounded (also announced in `welcome.limits`). */
export const LIMITS = {
  maxSlots: 256,
  maxCredit: 100_000,
  maxBatch: 10_000,
  maxNameLength: 100,
  maxErrorLength: 4_096,
} as const;

export const JobId = z.string().min(1).max(64);
export type JobId = z.infer<typeof JobId>;
export const WorkerId = z.string().min(1).max(64);
export type WorkerId = z.infer<typeof WorkerId>;
/** Fencing token: unique per dispatch, increasing; results quote it. */
export const Lease = z
  .number()
  .int()
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER);
export type Lease = z.infer<typeof Lease>;
export const ModuleHash = z.string().regex(/^[0-9a-f]{64}$/);
export const WorkerKind = z.enum(['node', 'browser']);
export type WorkerKind = z.infer<typeof WorkerKind>;

const Name = z.string().min(1).max(LIMITS.maxNameLength);
const ErrorText = z.string().max(LIMITS.maxErrorLength);

// ---------------------------------------------------------------- worker -> master

/** First message of a worker. */
export const Hello = z.strictObject({
  type: z.literal('hello'),
  protocol: z.number().int(),
  kind: WorkerKind,
  slots: z.number().int().min(1).max(LIMITS.maxSlots),
  name: Name.optional(),
  volunteer: Name.optional(),
});
export type Hello = z.infer<typeof Hello>;

/** Grants `credit` more tasks (additive): the prefetch window. */
export const Ready = z.strictObject({
  type: z.literal('ready'),
  credit: z.number().int().min(1).max(LIMITS.maxCredit),
});
export type Ready = z.infer<typeof Ready>;

/**
 * How a task ended on the worker: `error` (the task threw; retried up to maxAttempts),
 * `crash` (it killed its thread: exit, out of memory, past its lease; failed after 3).
 */
export const FailureKind = z.enum(['error', 'crash']);
export type FailureKind = z.infer<typeof FailureKind>;

export const TaskSuccess = z.strictObject({
  lease: Lease,
  ok: z.literal(true),
  output: z.unknown(),
});
export const TaskFailure = z.strictObject({
  lease: Lease,
  ok: z.literal(false),
  error: ErrorText,
  kind: FailureKind,
});
export const TaskResult = z.discriminatedUnion('ok', [
  TaskSuccess,
  TaskFailure,
]);
export type TaskResult = z.infer<typeof TaskResult>;

/** A batch of results, each quoting its lease. */
export const Results = z.strictObject({
  type: z.literal('results'),
  results: z.array(TaskResult).min(1).max(LIMITS.maxBatch),
  /** More credit, as `ready` would grant: saves a frame per round trip. */
  credit: z.number().int().min(1).max(LIMITS.maxCredit).optional(),
});
export type Results = z.infer<typeof Results>;

/** Optional progress of a running task (`ctx.progress`), throttled by the worker. */
export const Progress = z.strictObject({
  type: z.literal('progress'),
  lease: Lease,
  fraction: z.number().min(0).max(1),
});
export type Progress = z.infer<typeof Progress>;

/** A dashboard subscribes with this instead of `hello`. */
export const Watch = z.strictObject({
  type: z.literal('watch'),
  protocol: z.number().int(),
});
export type Watch = z.infer<typeof Watch>;

export const WorkerMessage = z.discriminatedUnion('type', [
  Hello,
  Ready,
  Results,
  Progress,
  Watch,
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

// ---------------------------------------------------------------- master -> worker

export const Welcome = z.strictObject({
  type: z.literal('welcome'),
  workerId: WorkerId,
  heartbeatMs: z.number().int().positive(),
  limits: z.strictObject({
    maxPayloadBytes: z.number().int().positive(),
    maxBatch: z.number().int().positive(),
    maxCredit: z.number().int().positive(),
  }),
});
export type Welcome = z.infer<typeof Welcome>;

/** One task on the wire: what differs from task to task. */
export const WireTask = z.strictObject({
  job: JobId,
  index: z.number().int().nonnegative(),
  lease: Lease,
  attempt: z.number().int().positive(),
  input: z.unknown(),
});
export type WireTask = z.infer<typeof WireTask>;

/** What the tasks of one job share, sent once per frame rather than once per task. */
export const JobWire = z.strictObject({
  module: ModuleHash,
  /** Lease length: the worker abandons (and kills) the task past it. */
  timeoutMs: z.number().int().positive(),
  /** For the volunteer's "working on". */
  name: z.string(),
});
export type JobWire = z.infer<typeof JobWire>;

/** A task as a worker's executor sees it: the wire task with its job's facts. */
export const TaskAssignment = WireTask.extend({
  module: ModuleHash,
  timeoutMs: z.number().int().positive(),
});
export type TaskAssignment = z.infer<typeof TaskAssignment>;

/** Every task's `job` is a key of `jobs` (checked when decoding). */
export const Tasks = z.strictObject({
  type: z.literal('tasks'),
  jobs: z.record(JobId, JobWire),
  tasks: z.array(WireTask).min(1).max(LIMITS.maxBatch),
});
export type Tasks = z.infer<typeof Tasks>;

/** Stop these leases: their job was cancelled or the task was done elsewhere. */
export const Cancel = z.strictObject({
  type: z.literal('cancel'),
  leases: z.array(Lease).min(1),
});
export type Cancel = z.infer<typeof Cancel>;

/** These results are committed to the store. */
export const Ack = z.strictObject({
  type: z.literal('ack'),
  leases: z.array(Lease).min(1),
});
export type Ack = z.infer<typeof Ack>;

export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

// ---------------------------------------------------------------- master -> dashboard

export const JobState = z.enum(['running', 'completed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;

export const JobCounts = z.strictObject({
  total: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});
export type JobCounts = z.infer<typeof JobCounts>;

/** A job as the dashboard and `GET /api/jobs` see it. */
export const JobSummary = z.strictObject({
  id: JobId,
  name: z.string(),
  state: JobState,
  sealed: z.boolean(),
  priority: z.number(),
  counts: JobCounts,
  /** Tasks finished per second, smoothed over the last seconds. */
  rate: z.number().nonnegative(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  /** A few recent task errors: `{index, error}`. */
  errors: z.array(
    z.strictObject({ index: z.number().int(), error: z.string() }),
  ),
});
export type JobSummary = z.infer<typeof JobSummary>;

export const WorkerSummary = z.strictObject({
  id: WorkerId,
  name: z.string(),
  kind: WorkerKind,
  slots: z.number().int(),
  inFlight: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  rate: z.number().nonnegative(),
  connectedAt: z.number(),
});
export type WorkerSummary = z.infer<typeof WorkerSummary>;

export const FeedEvent = z.strictObject({
  at: z.number(),
  kind: z.enum([
    'joined',
    'left',
    'reassigned',
    'failed',
    'submitted',
    'completed',
    'cancelled',
  ]),
  text: z.string(),
});
export type FeedEvent = z.infer<typeof FeedEvent>;

/** One point of the throughput chart: tasks finished per second at `at`. */
export const ThroughputPoint = z.strictObject({
  at: z.number(),
  rate: z.number().nonnegative(),
});
export type ThroughputPoint = z.infer<typeof ThroughputPoint>;

/** Sent once after `watch`. */
export const Snapshot = z.strictObject({
  type: z.literal('snapshot'),
  at: z.number(),
  jobs: z.array(JobSummary),
  workers: z.array(WorkerSummary),
  events: z.array(FeedEvent),
  throughput: z.array(ThroughputPoint),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** Sent at most a few times a second: only what changed since the last one. */
export const Delta = z.strictObject({
  type: z.literal('delta'),
  at: z.number(),
  jobs: z.array(JobSummary),
  workers: z.array(WorkerSummary),
  removedWorkers: z.array(WorkerId),
  events: z.array(FeedEvent),
  throughput: ThroughputPoint,
});
export type Delta = z.infer<typeof Delta>;

export const MasterMessage = z.discriminatedUnion('type', [
  Welcome,
  Tasks,
  Cancel,
  Ack,
  ErrorFrame,
  Snapshot,
  Delta,
]);
export type MasterMessage = z.infer<typeof MasterMessage>;

// ---------------------------------------------------------------- decoding

type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

function decodeWith<T>(
  schema: z.ZodType<T>,
  json: ReturnType<typeof decodeFrame>,
): Decoded<T> {
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: z.prettifyError(parsed.error).slice(0, 500) };
}

// Hot-path checks for the two messages that carry tasks and results. They accept
// exactly what the zod schemas accept (a test checks both agree) without copying every
// object; anything they do not accept goes through zod for its error message.

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isLease = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const hasOnlyKeys = (v: Record<string, unknown>, count: number): boolean => {
  let n = 0;
  for (const key in v) if (Object.hasOwn(v, key)) n++;
  return n === count;
};

function isResults(v: Record<string, unknown>): boolean {
  const results = v.results;
  const credit = v.credit;
  if (!hasOnlyKeys(v, credit === undefined ? 2 : 3) || !Array.isArray(results))
    return false;
  if (
    credit !== undefined &&
    (typeof credit !== 'number' ||
      !Number.isSafeInteger(credit) ||
      credit < 1 ||
      credit > LIMITS.maxCredit)
  )
    return false;
  if (results.length < 1 || results.length > LIMITS.maxBatch) return false;
  for (const r of results) {
    if (!isObject(r) || !isLease(r.lease)) return false;
    if (r.ok === true) {
      if (!('output' in r) || !hasOnlyKeys(r, 3)) return false;
    } else if (r.ok === false) {
      if (!hasOnlyKeys(r, 4)) return false;
      if (typeof r.error !== 'string' || r.error.length > LIMITS.maxErrorLength)
        return false;
      if (r.kind !== 'error' && r.kind !== 'crash') return false;
    } else return false;
  }
  return true;
}

const HASH = /^[0-9a-f]{64}$/;

function isTasks(v: Record<string, unknown>): boolean {
  const { tasks, jobs } = v;
  if (!hasOnlyKeys(v, 3) || !Array.isArray(tasks) || !isObject(jobs))
    return false;
  if (tasks.length < 1 || tasks.length > LIMITS.maxBatch) return false;
  for (const key in jobs) {
    const job = jobs[key];
    if (
      key.length < 1 ||
      key.length > 64 ||
      !isObject(job) ||
      !hasOnlyKeys(job, 3)
    )
      return false;
    const { module, timeoutMs, name } = job;
    if (
      typeof module !== 'string' ||
      !HASH.test(module) ||
      typeof name !== 'string'
    )
      return false;
    if (
      typeof timeoutMs !== 'number' ||
      !Number.isSafeInteger(timeoutMs) ||
      timeoutMs < 1
    )
      return false;
  }
  for (const t of tasks) {
    if (!isObject(t) || !('input' in t) || !hasOnlyKeys(t, 5)) return false;
    const { job, index, lease, attempt } = t;
    if (typeof job !== 'string' || job.length < 1 || job.length > 64)
      return false;
    if (!isLease(index) || !isLease(lease)) return false;
    if (
      typeof attempt !== 'number' ||
      !Number.isSafeInteger(attempt) ||
      attempt < 1
    )
      return false;
  }
  return true;
}

/** True if every task names a job the frame describes. */
function jobsCovered(message: Tasks): boolean {
  for (const task of message.tasks)
    if (!Object.hasOwn(message.jobs, task.job)) return false;
  return true;
}

/**
 * The tasks of a `tasks` message with their jobs' module and timeout filled in. The
 * decoded message is the worker's own: its task objects are completed in place rather
 * than copied (one allocation fewer per task on the hot path).
 */
export function expandTasks(message: Tasks): TaskAssignment[] {
  for (const task of message.tasks) {
    const job = message.jobs[task.job] as JobWire;
    const full = task as TaskAssignment;
    full.module = job.module;
    full.timeoutMs = job.timeoutMs;
  }
  return message.tasks as TaskAssignment[];
}

/** Parses one frame from an untrusted worker or dashboard. Never throws. */
export function decodeWorkerMessage(
  frame: string | Uint8Array,
): Decoded<WorkerMessage> {
  const json = decodeFrame(frame);
  if (
    json.ok &&
    isObject(json.value) &&
    json.value.type === 'results' &&
    isResults(json.value)
  ) {
    return { ok: true, value: json.value as Results };
  }
  return decodeWith(WorkerMessage, json);
}

/** Parses one frame from the master (workers validate what they are sent too). */
export function decodeMasterMessage(
  frame: string | Uint8Array,
): Decoded<MasterMessage> {
  const json = decodeFrame(frame);
  if (
    json.ok &&
    isObject(json.value) &&
    json.value.type === 'tasks' &&
    isTasks(json.value)
  ) {
    const message = json.value as Tasks;
    if (jobsCovered(message)) return { ok: true, value: message };
  }
  const decoded = decodeWith(MasterMessage, json);
  if (
    decoded.ok &&
    decoded.value.type === 'tasks' &&
    !jobsCovered(decoded.value)
  ) {
    return {
      ok: false,
      error: 'a task names a job the frame does not describe',
    };
  }
  return decoded;
}
