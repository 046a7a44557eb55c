/**
 * THE wire contract between the master, Node workers, browser workers and dashboards.
 * Every WebSocket message is defined once as a zod schema (here, or for the dashboard's
 * frames in protocol-dashboard.ts, the master's frames to a worker in
 * protocol-worker-bound.ts; ids and bounds in protocol-base.ts) and imported from
 * here; its TypeScript type shares its name. Decode at the edge with the `decode*`
 * helpers (they never throw; protocol-fast.ts checks the hot messages without zod);
 * build outbound messages as typed values. The prose version is docs/protocol.md.
 */
import * as z from 'zod';
import { decodeFrame } from './codec.js';
import { MAX_PUBLIC_KEY_LENGTH, MAX_SIGNATURE_LENGTH } from './identity.js';
import { isAck, isObject, isResults, isTasks } from './protocol-fast.js';
import {
  ErrorText,
  Lease,
  LIMITS,
  Name,
  NodeSandbox,
  WorkerKind,
} from './protocol-base.js';
import { Delta, Snapshot } from './protocol-dashboard.js';
import {
  Ack,
  Cancel,
  Challenge,
  ErrorFrame,
  Standing,
  Tasks,
  Welcome,
} from './protocol-worker-bound.js';

// The ids and bounds, the dashboard's messages and the master's messages to a worker
// live in their own files: this one is where every part imports the contract from.
export {
  JobId,
  Lease,
  LIMITS,
  ModuleHash,
  NodeSandbox,
  VolunteerId,
  WorkerId,
  WorkerKind,
  WorkerSandbox,
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
export {
  Ack,
  Cancel,
  Challenge,
  ErrorFrame,
  expandTasks,
  JobWire,
  ResumeEntry,
  Standing,
  TaskGroup,
  Tasks,
  Welcome,
  type TaskBatch,
} from './protocol-worker-bound.js';

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
  /** Send me `standing` frames: what my volunteer has given (absent: none are sent). */
  standing: z.boolean().optional(),
  /** Where a Node worker runs task code (`colony worker --sandbox`), shown on the dashboard. */
  sandbox: NodeSandbox.optional(),
  /**
   * The worker understands `resume` in `tasks` groups (tasks that start again from a
   * checkpoint). A worker without it is sent no `resume`: its tasks start from scratch.
   */
  resumes: z.literal(true).optional(),
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
    /**
     * Busy time of each success (`busyMs[i]` for `leases[i]`): wall milliseconds its
     * thread spent in the task function, awaits included. Credited to the volunteer
     * when its result is the one recorded (bounded by the lease's age on the master).
     */
    busyMs: z
      .array(z.number().nonnegative().max(LIMITS.maxBusyMs))
      .max(LIMITS.maxBatch)
      .optional(),
    /** More credit, as `ready` would grant: saves a frame per round trip. */
    credit: z.number().int().min(1).max(LIMITS.maxCredit).optional(),
  })
  .refine((m) => m.leases.length === m.outputs.length, {
    message: 'leases and outputs must have the same length',
  })
  .refine(
    (m) => m.busyMs === undefined || m.busyMs.length === m.leases.length,
    {
      message: 'busyMs and leases must have the same length',
    },
  )
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

/**
 * The latest state of a running task (`ctx.checkpoint(state)`): the master keeps it with
 * the task, and a later attempt of the task starts from it (`ctx.resumeFrom`). A JSON
 * value or bytes; the worker sends at most one per lease per second.
 */
export const Checkpoint = z.strictObject({
  type: z.literal('checkpoint'),
  lease: Lease,
  state: z.unknown().refine((v) => v !== undefined, 'state is required'),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

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
  Checkpoint,
  Watch,
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

// ---------------------------------------------------------------- master -> worker

/** What the master sends a worker: a worker decodes only these. */
export const WorkerBoundMessage = z.discriminatedUnion('type', [
  Challenge,
  Welcome,
  Tasks,
  Cancel,
  Ack,
  Standing,
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
