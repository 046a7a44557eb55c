/**
 * THE wire contract between the master, Node workers, browser workers and dashboards.
 * Every WebSocket message is defined once as a zod schema (here, or for the dashboard's
 * frames in protocol-dashboard.ts; ids and bounds in protocol-base.ts) and imported from
 * here; its TypeScript type shares its name. Decode at the edge with the `decode*`
 * helpers (they never throw; protocol-fast.ts checks the hot messages without zod);
 * build outbound messages as typed values. The prose version is docs/protocol.md.
 */
import * as z from 'zod';
import { ErrorCode } from './errors.js';
import { decodeFrame } from './codec.js';
import { MAX_PUBLIC_KEY_LENGTH, MAX_SIGNATURE_LENGTH } from './identity.js';
import { isAck, isObject, isResults, isTasks } from './protocol-fast.js';
import {
  ErrorText,
  JobId,
  Lease,
  LIMITS,
  ModuleHash,
  Name,
  WorkerId,
  WorkerKind,
} from './protocol-base.js';
import { Delta, Snapshot } from './protocol-dashboard.js';

// The ids and bounds, and the dashboard's messages, live in their own files: this one
// is where every part imports the contract from.
export {
  JobId,
  Lease,
  LIMITS,
  ModuleHash,
  VolunteerId,
  WorkerId,
  WorkerKind,
} from './protocol-base.js';
export {
  Delta,
  FeedEvent,
  JobCounts,
  JobState,
  JobSummary,
  Snapshot,
  ThroughputPoint,
  WorkerSummary,
} from './protocol-dashboard.js';
export { isResultsMessage } from './protocol-fast.js';

/** Bumped on any incompatible change; `hello.protocol` must equal it. */
export const PROTOCOL_VERSION = 3;

// ---------------------------------------------------------------- worker -> master

/**
 * The volunteer's proof of its key (shared/identity.ts): base64 SPKI of an ECDSA P-256
 * public key, and a base64 P1363 signature of `helloString(host, nonce)`.
 */
export const VolunteerProof = z.strictObject({
  publicKey: z.string().min(1).max(MAX_PUBLIC_KEY_LENGTH),
  signature: z.string().min(1).max(MAX_SIGNATURE_LENGTH),
});
export type VolunteerProof = z.infer<typeof VolunteerProof>;

/** First message of a worker, after the master's `challenge`. */
export const Hello = z.strictObject({
  type: z.literal('hello'),
  protocol: z.number().int(),
  /**
   * Required from protocol 3 on. Optional in the schema so that an older client gets
   * `E_PROTOCOL_MISMATCH` (the clear reason) rather than a schema error.
   */
  volunteer: VolunteerProof.optional(),
  kind: WorkerKind,
  slots: z.number().int().min(1).max(LIMITS.maxSlots),
  name: Name.optional(),
  /** Where a Node worker runs task code (`colony worker --sandbox`), shown on the dashboard. */
  sandbox: z.enum(['bwrap', 'permission', 'none']).optional(),
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

export const TaskFailure = z.strictObject({
  lease: Lease,
  error: ErrorText,
  kind: FailureKind,
});
export type TaskFailure = z.infer<typeof TaskFailure>;

/**
 * A batch of results, column by column (a task's result is `outputs[i]` for the lease
 * `leases[i]`; failures apart, they are rare): no object per task on either side.
 */
export const Results = z
  .strictObject({
    type: z.literal('results'),
    leases: z.array(Lease).max(LIMITS.maxBatch),
    outputs: z.array(z.unknown()).max(LIMITS.maxBatch),
    failures: z.array(TaskFailure).max(LIMITS.maxBatch).optional(),
    /** More credit, as `ready` would grant: saves a frame per round trip. */
    credit: z.number().int().min(1).max(LIMITS.maxCredit).optional(),
  })
  .refine((m) => m.leases.length === m.outputs.length, {
    message: 'leases and outputs must have the same length',
  })
  .refine(
    (m) => {
      const count = m.leases.length + (m.failures?.length ?? 0);
      return count >= 1 && count <= LIMITS.maxBatch;
    },
    { message: `a results frame carries 1 to ${LIMITS.maxBatch} results` },
  );
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

/** The master's first frame on every socket: the nonce a worker signs in `hello`. */
export const Challenge = z.strictObject({
  type: z.literal('challenge'),
  nonce: z.string().min(1).max(64),
});
export type Challenge = z.infer<typeof Challenge>;

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

/** What the tasks of one job share, sent once per frame rather than once per task. */
export const JobWire = z.strictObject({
  module: ModuleHash,
  /** Lease length: the worker abandons (and kills) the task past it. */
  timeoutMs: z.number().int().positive(),
  /** For the volunteer's "working on". */
  name: z.string(),
});
export type JobWire = z.infer<typeof JobWire>;

/**
 * The tasks of one job in a frame, column by column: task i is `indexes[i]` of `job`,
 * under lease `leases[i]`, attempt `attempts[i]`, with input `inputs[i]`. Columns cost
 * a third of the bytes of an object per task, and nothing to allocate per task.
 */
export const TaskGroup = z
  .strictObject({
    job: JobId,
    leases: z.array(Lease).min(1).max(LIMITS.maxBatch),
    indexes: z.array(z.number().int().nonnegative()).max(LIMITS.maxBatch),
    attempts: z.array(z.number().int().positive()).max(LIMITS.maxBatch),
    inputs: z.array(z.unknown()).max(LIMITS.maxBatch),
  })
  .refine(
    (g) =>
      g.indexes.length === g.leases.length &&
      g.attempts.length === g.leases.length &&
      g.inputs.length === g.leases.length,
    { message: 'the columns of a task group must have the same length' },
  );
export type TaskGroup = z.infer<typeof TaskGroup>;

/** The tasks of one group as a worker's executor sees them: with their job's facts. */
export type TaskBatch = TaskGroup & JobWire;

/** Every group's `job` is a key of `jobs`; at most `maxBatch` tasks in all. */
export const Tasks = z
  .strictObject({
    type: z.literal('tasks'),
    jobs: z.record(JobId, JobWire),
    groups: z.array(TaskGroup).min(1).max(LIMITS.maxBatch),
  })
  .refine((m) => m.groups.every((g) => Object.hasOwn(m.jobs, g.job)), {
    message: 'a task group names a job the frame does not describe',
  })
  .refine(
    (m) => m.groups.reduce((n, g) => n + g.leases.length, 0) <= LIMITS.maxBatch,
    { message: `a tasks frame carries at most ${LIMITS.maxBatch} tasks` },
  );
export type Tasks = z.infer<typeof Tasks>;

/** Stop these leases: their job was cancelled or the task was done elsewhere. */
export const Cancel = z.strictObject({
  type: z.literal('cancel'),
  leases: z.array(Lease).min(1),
});
export type Cancel = z.infer<typeof Cancel>;

/** The worker's next `count` results (in the order it sent them) are committed. */
export const Ack = z.strictObject({
  type: z.literal('ack'),
  count: z.number().int().min(1),
});
export type Ack = z.infer<typeof Ack>;

export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** What the master sends a worker: a worker decodes only these. */
export const WorkerBoundMessage = z.discriminatedUnion('type', [
  Challenge,
  Welcome,
  Tasks,
  Cancel,
  Ack,
  ErrorFrame,
]);
export type WorkerBoundMessage = z.infer<typeof WorkerBoundMessage>;

/** What the master sends a dashboard (after `watch`): a dashboard decodes only these. */
export const DashboardMessage = z.discriminatedUnion('type', [
  Challenge,
  Snapshot,
  Delta,
  ErrorFrame,
]);
export type DashboardMessage = z.infer<typeof DashboardMessage>;

/** Anything the master sends, to either kind of peer. */
export type MasterMessage = WorkerBoundMessage | DashboardMessage;

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

/** Each group of a `tasks` message with its job's facts (module, timeout, name). */
export function expandTasks(message: Tasks): TaskBatch[] {
  return message.groups.map(({ job, leases, indexes, attempts, inputs }) => {
    const { module, timeoutMs, name } = message.jobs[job] as JobWire;
    return { job, leases, indexes, attempts, inputs, module, timeoutMs, name };
  });
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

/** Parses one frame from the master to a worker (workers validate what they are sent). */
export function decodeWorkerBoundMessage(
  frame: string | Uint8Array,
): Decoded<WorkerBoundMessage> {
  const json = decodeFrame(frame);
  if (
    json.ok &&
    isObject(json.value) &&
    (json.value.type === 'tasks'
      ? isTasks(json.value)
      : json.value.type === 'ack' && isAck(json.value))
  ) {
    return { ok: true, value: json.value as Tasks | Ack };
  }
  return decodeWith(WorkerBoundMessage, json);
}

/** Parses one frame from the master to a dashboard. */
export function decodeDashboardMessage(
  frame: string | Uint8Array,
): Decoded<DashboardMessage> {
  return decodeWith(DashboardMessage, decodeFrame(frame));
}
