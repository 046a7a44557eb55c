/**
 * What the master sends a worker: the handshake (`challenge`, `welcome`), the `tasks`
 * frame and its columns, `cancel`, `ack`, `standing` and `error` (the dashboard gets
 * `challenge` and `error` too). Part of the wire contract; shared/protocol.ts re-exports
 * it and puts these in the worker's message union.
 */
import * as z from 'zod';
import { ErrorCode } from './errors.js';
import {
  JobId,
  Lease,
  LIMITS,
  MAX_ID_LENGTH,
  ModuleHash,
  WorkerId,
} from './protocol-base.js';

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

/** One task of a group that resumes from a checkpoint (see `TaskGroup.resume`). */
export const ResumeEntry = z.strictObject({
  at: z.number().int().nonnegative(),
  state: z.unknown().refine((v) => v !== undefined, 'state is required'),
});
export type ResumeEntry = z.infer<typeof ResumeEntry>;

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
    /**
     * Tasks of the group that start again from a checkpoint: `at` is the task's position
     * in the group, `state` what its earlier attempt last sent. Only for workers whose
     * `hello` said `resumes`, and absent when no task of the group has one.
     */
    resume: z.array(ResumeEntry).min(1).max(LIMITS.maxBatch).optional(),
  })
  .refine(
    (g) =>
      g.indexes.length === g.leases.length &&
      g.attempts.length === g.leases.length &&
      g.inputs.length === g.leases.length,
    { message: 'the columns of a task group must have the same length' },
  )
  .refine((g) => (g.resume ?? []).every((r) => r.at < g.leases.length), {
    message: 'a resume entry points past the end of its group',
  });
export type TaskGroup = z.infer<typeof TaskGroup>;

/**
 * The tasks of one group as a worker's executor sees them: with their job's facts, and
 * the checkpoints to resume from as a column (`resumes[i]` undefined: start afresh).
 * With `inputsJson`, each of `inputs` is the input's JSON text, parsed in the task
 * thread (shared/tasks-text.ts); `inputsSpan`, when set, is those texts joined by
 * commas as they stood in the frame (a slice of it), which travels on as it is.
 */
export type TaskBatch = Omit<TaskGroup, 'resume'> &
  JobWire & {
    resumes?: unknown[];
    inputsJson?: boolean;
    inputsSpan?: string | undefined;
  };

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

/**
 * What this volunteer (the key it proved at `hello`) has given this master, over all
 * its connections and visits: sent after `welcome`, then at most every few seconds
 * while it changes. `rank` is 1 for the volunteer with the most tasks.
 */
export const Standing = z.strictObject({
  type: z.literal('standing'),
  volunteer: z.string().max(MAX_ID_LENGTH),
  tasks: z.number().int().nonnegative(),
  busyMs: z.number().nonnegative(),
  rank: z.number().int().positive(),
  volunteers: z.number().int().positive(),
});
export type Standing = z.infer<typeof Standing>;

export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** Each group of a `tasks` message with its job's facts (module, timeout, name). */
export function expandTasks(message: Tasks): TaskBatch[] {
  return message.groups.map(
    ({ job, leases, indexes, attempts, inputs, resume }) => {
      const { module, timeoutMs, name } = message.jobs[job] as JobWire;
      const batch: TaskBatch = {
        job,
        leases,
        indexes,
        attempts,
        inputs,
        module,
        timeoutMs,
        name,
      };
      if (resume !== undefined) {
        const resumes: unknown[] = new Array<unknown>(leases.length);
        for (const { at, state } of resume) resumes[at] = state;
        batch.resumes = resumes;
      }
      return batch;
    },
  );
}
