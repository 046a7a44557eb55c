/**
 * `tasks` frames as the master builds them, for the tests of the worker's decoders (the
 * text decoder and the byte decoder must agree with the plain one on the same frames).
 */
import {
  decodeWorkerBoundMessage,
  expandTasks,
  type Tasks,
} from '../../shared/protocol.js';
import { buildTasksFrame } from '../../server/master/task-frames.js';
import { jobId, lease } from './ids.js';

/** A module hash (any 64 hex digits do). */
export const MODULE = 'a'.repeat(64);

/** Two jobs; one name outside ASCII, so that a byte decoder meets multi-byte text. */
export const JOBS = new Map([
  [jobId('j1'), { name: 'one ✓', moduleHash: MODULE, timeoutMs: 1_000 }],
  [jobId('j2'), { name: 'two', moduleHash: MODULE, timeoutMs: 2_000 }],
]);

/**
 * A text frame of `inputs` as the master builds it: their JSON texts spliced in, every
 * third task of job j2 (so that there are two groups), indexes, leases and attempts
 * differing per task.
 */
export function masterFrame(inputs: unknown[]): string {
  const tasks = inputs.map((_, i) => ({
    jobId: jobId(i % 3 === 0 ? 'j2' : 'j1'),
    index: i * 2,
    lease: lease(100 + i),
    attempt: 1 + (i % 2),
  }));
  const frame = buildTasksFrame(
    tasks,
    inputs.map((v) => JSON.stringify(v)),
    JOBS,
  );
  if (typeof frame !== 'string') throw new Error('expected a text frame');
  return frame;
}

/** The batches the plain decoder (zod, then expandTasks) gives for a frame. */
export function plainBatches(frame: string) {
  const decoded = decodeWorkerBoundMessage(frame);
  if (!decoded.ok || decoded.value.type !== 'tasks')
    throw new Error('not a tasks frame');
  return expandTasks(decoded.value as Tasks);
}
