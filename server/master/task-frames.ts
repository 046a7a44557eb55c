/**
 * Builds `tasks` frames without parsing inputs: stored inputs are JSON text, spliced
 * straight into the frame (the hot path of dispatch). Only a batch holding a binary
 * input is decoded and re-encoded as one binary frame.
 */
import { decodeFrame, encodeFrame } from '../../shared/codec.js';
import type { JobWire, Tasks } from '../../shared/protocol.js';
import type { Assignment } from './scheduler/types.js';
import type { EncodedValue } from './store/store.js';

export interface JobWireInfo {
  name: string;
  moduleHash: string;
  timeoutMs: number;
}

/**
 * @param inputs inputs of `tasks`, in the same order
 * @param jobs wire facts of every job in the batch
 */
export function buildTasksFrame(
  tasks: readonly Assignment[],
  inputs: readonly EncodedValue[],
  jobs: ReadonlyMap<string, JobWireInfo>,
): string | Uint8Array {
  const jobsWire: Record<string, JobWire> = {};
  for (const [id, job] of jobs) {
    jobsWire[id] = {
      module: job.moduleHash,
      timeoutMs: job.timeoutMs,
      name: job.name,
    };
  }
  if (inputs.every((input) => typeof input === 'string')) {
    // What jobs share goes once in `jobs`; each task carries only what differs.
    const prefixes = new Map<string, string>();
    for (const id of jobs.keys())
      prefixes.set(id, `{"job":${JSON.stringify(id)},"index":`);
    const parts: string[] = new Array<string>(tasks.length);
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i] as Assignment;
      parts[i] =
        `${prefixes.get(task.jobId) as string}${task.index},"lease":${task.lease},` +
        `"attempt":${task.attempt},"input":${inputs[i] as string}}`;
    }
    return `{"type":"tasks","jobs":${JSON.stringify(jobsWire)},"tasks":[${parts.join(',')}]}`;
  }
  const message: Tasks = {
    type: 'tasks',
    jobs: jobsWire,
    tasks: tasks.map((task, i) => ({
      job: task.jobId,
      index: task.index,
      lease: task.lease,
      attempt: task.attempt,
      input: decodeStored(inputs[i] as EncodedValue),
    })),
  };
  return encodeFrame(message);
}

/** Turns a stored value back into a plain value (JSON text or a binary codec frame). */
export function decodeStored(value: EncodedValue): unknown {
  const decoded = decodeFrame(value);
  if (!decoded.ok) throw new Error(`corrupt stored value: ${decoded.error}`);
  return decoded.value;
}

/**
 * Encodes a value for the store: JSON text, or a binary codec frame if it holds bytes.
 * Throws on values JSON cannot hold (cycles, nesting too deep for the stack).
 */
export function encodeStored(value: unknown): EncodedValue {
  const encoded = encodeFrame(value);
  if (encoded === undefined) throw new Error('value is not JSON');
  return encoded;
}
