/**
 * What the master tells dashboards (and `GET /api/jobs`, `GET /api/workers`): job and
 * worker summaries, the event list, the throughput chart, and the `snapshot` and
 * `delta` frames that carry them. Part of the wire contract; shared/protocol.ts
 * re-exports it and puts the frames in the dashboard's message union.
 */
import * as z from 'zod';
import { JobId, WorkerId, WorkerKind, WorkerSandbox } from './protocol-base.js';

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
  /** The submitter's public description: plain text, shown as text (absent if none). */
  description: z.string().optional(),
  state: JobState,
  sealed: z.boolean(),
  priority: z.number(),
  counts: JobCounts,
  /** Tasks finished per second, smoothed over the last seconds. */
  rate: z.number().nonnegative(),
  /**
   * Progress inside the running tasks: the sum of the latest `progress` fractions of the
   * job's running tasks (0 when none report it), at most `counts.running`.
   */
  partial: z.number().nonnegative(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  /** A few recent task errors: `{index, error}`. */
  errors: z.array(
    z.strictObject({ index: z.number().int(), error: z.string() }),
  ),
  /**
   * Backup copies of stragglers at the job's tail: issued, and those whose result was
   * the one recorded (absent from masters that predate them).
   */
  backups: z
    .strictObject({
      issued: z.number().int().nonnegative(),
      won: z.number().int().nonnegative(),
    })
    .optional(),
  /**
   * Checkpoints (`ctx.checkpoint`): open tasks that have one now, and dispatches that
   * resumed from one (absent from masters that predate them).
   */
  checkpoints: z
    .strictObject({
      tasks: z.number().int().nonnegative(),
      resumed: z.number().int().nonnegative(),
    })
    .optional(),
});
export type JobSummary = z.infer<typeof JobSummary>;

export const WorkerSummary = z.strictObject({
  id: WorkerId,
  name: z.string(),
  kind: WorkerKind,
  slots: z.number().int(),
  inFlight: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  /** Its replica outputs that disagreed with an agreed output (BOINC's "invalid"). */
  disagreed: z.number().int().nonnegative(),
  /** The volunteer it proved to be: a short hash of its public key (see shared/identity.ts). */
  volunteer: z.string(),
  rate: z.number().nonnegative(),
  connectedAt: z.number(),
  /** Where it connects from (`GET /api/workers` only; see docs/deploy.md). */
  address: z.string().optional(),
  /** Where its task code runs, as it said at `hello` (absent: a Node worker that did not say). */
  sandbox: WorkerSandbox.optional(),
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
    'backup',
    'resumed',
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
  /** Jobs deleted (purged) since the last delta. */
  removedJobs: z.array(JobId).max(10_000).optional(),
  events: z.array(FeedEvent),
  throughput: ThroughputPoint,
});
export type Delta = z.infer<typeof Delta>;
