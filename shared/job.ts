/**
 * What a submitter sends: job options and the `POST /api/jobs` body, as zod schemas
 * shared by the master (validation), the client library and the CLI.
 */
import * as z from 'zod';
import { stripControls } from './sanitize.js';

/** Longest accepted task module source (bundled), in bytes of UTF-16 text. */
export const MAX_MODULE_CHARS = 8 * 1024 * 1024;

/** Default of `maxOutputBytes`. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export const JobOptions = z.strictObject({
  /** Lease length: a task not answered by then is handed to someone else. @defaultValue 60 000 */
  timeoutMs: z
    .number()
    .int()
    .min(50)
    .max(7 * 24 * 3600 * 1000)
    .default(60_000),
  /** Failed attempts (the task threw) before a task is marked failed. @defaultValue 5 */
  maxAttempts: z.number().int().min(1).max(100).default(5),
  /** Distinct workers that must return equal outputs before a result is accepted. @defaultValue 1 */
  replicas: z.number().int().min(1).max(16).default(1),
  /** Share of dispatch among running jobs: weight is `priority + 1`. @defaultValue 0 */
  priority: z.number().int().min(0).max(100).default(0),
  /**
   * Stragglers at the tail of the job get a backup copy on another worker (the first
   * result wins). Turn off for tasks with side effects. Absent means on (jobs stored
   * before the option existed keep their options as they were). @defaultValue true
   */
  backups: z.boolean().optional(),
  /**
   * Largest output of one task, in bytes as stored (JSON text, or the binary encoding).
   * A bigger one is refused and counts as a failed attempt; the task is tried elsewhere.
   * @defaultValue 16 MiB ({@link DEFAULT_MAX_OUTPUT_BYTES})
   */
  maxOutputBytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .optional(),
  /**
   * Largest checkpoint of one task (`ctx.checkpoint(state)`), in bytes as stored (JSON
   * text, or the binary encoding). A bigger one is not kept (`E_CHECKPOINT_TOO_LARGE`
   * to the worker); the task goes on. @defaultValue 1 MiB
   */
  maxCheckpointBytes: z
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .optional(),
});
export type JobOptions = z.infer<typeof JobOptions>;
export type JobOptionsInput = z.input<typeof JobOptions>;

export const JOB_NAME_MAX = 200;

/** Longest job description, in characters. */
export const JOB_DESCRIPTION_MAX = 1_000;

/**
 * A job's public description, for the volunteers who run it: plain text (never markup),
 * control and bidi characters stripped, trimmed; empty means none.
 */
export const JobDescription = z
  .string()
  .max(JOB_DESCRIPTION_MAX)
  .transform((text) => stripControls(text).trim());

export const SubmitJobBody = z.strictObject({
  name: z.string().min(1).max(JOB_NAME_MAX),
  /** What the job is for, shown to volunteers as text ({@link JobDescription}). */
  description: JobDescription.optional(),
  /** The task module's source: one ES module with a default export. */
  module: z.string().min(1).max(MAX_MODULE_CHARS),
  inputs: z.array(z.unknown()).optional(),
  options: JobOptions.partial().optional(),
  /** Close the input set now. Defaults to true when `inputs` is given, else false. */
  sealed: z.boolean().optional(),
});
export type SubmitJobBody = z.infer<typeof SubmitJobBody>;

/**
 * One line of `GET /api/jobs/:id/results`. A failure's `code` says its kind:
 * E_TASK_FAILED, E_TASK_KILLED_WORKERS, E_TOO_MANY_DISPATCHES or E_REPLICAS_DISAGREE.
 */
export type ResultLine =
  | { index: number; ok: true; output: unknown }
  | { index: number; ok: false; error: string; code: string };
