/**
 * Builds `tasks` frames without parsing inputs: stored inputs are JSON text, spliced
 * straight into the frame (the hot path of dispatch). Only a batch holding a binary
 * input is decoded and re-encoded as one binary frame.
 */
import { decodeFrame, encodeFrame } from '../../shared/codec.js';
import type { Tasks } from '../../shared/protocol.js';
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
  if (inputs.every((input) => typeof input === 'string')) {
    // The per-job part of each task is built once per frame, not once per task.
    const prefixes = new Map<string, string>();
    for (const [id, job] of jobs) {
      prefixes.set(
        id,
        `{"job":${JSON.stringify(id)},"module":"${job.moduleHash}","timeoutMs":${job.timeoutMs},"index":`,
      );
    }
    const parts: string[] = new Array<string>(tasks.length);
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i] as Assignment;
      parts[i] =
        `${prefixes.get(task.jobId) as string}${task.index},"lease":${task.lease},` +
        `"attempt":${task.attempt},"input":${inputs[i] as string}}`;
    }
    return `{"type":"tasks","tasks":[${parts.join(',')}],"jobNames":${jobNamesJson(jobs)}}`;
  }
  const message: Tasks = {
    type: 'tasks',
    tasks: tasks.map((task, i) => {
      const job = jobs.get(task.jobId) as JobWireInfo;
      return {
        job: task.jobId,
        index: task.index,
        lease: task.lease,
        module: job.moduleHash,
        attempt: task.attempt,
        timeoutMs: job.timeoutMs,
        input: decodeStored(inputs[i] as EncodedValue),
      };
    }),
    jobNames: Object.fromEntries([...jobs].map(([id, job]) => [id, job.name])),
  };
  return encodeFrame(message);
}

function jobNamesJson(jobs: ReadonlyMap<string, JobWireInfo>): string {
  const names: Record<string, string> = {};
  for (const [id, job] of jobs) names[id] = job.name;
  return JSON.stringify(names);
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
