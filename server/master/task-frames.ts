/**
 * Builds `tasks` frames (one column group per job) without parsing inputs: stored inputs
 * are JSON text, spliced straight into the frame (the hot path of dispatch). Only a batch holding a binary
 * input is decoded and re-encoded as one binary frame.
 */
import { encodeFrame } from '../../shared/codec.js';
import type {
  JobId,
  JobWire,
  ResumeEntry,
  TaskGroup,
  Tasks,
} from '../../shared/protocol.js';
import type { Assignment } from './scheduler/types.js';
import type { EncodedValue } from './store/store.js';
import { decodeStored } from './store/value-codec.js';

export interface JobWireInfo {
  name: string;
  moduleHash: string;
  timeoutMs: number;
}

/** Everything one `tasks` frame is built from, gathered before it reaches the socket. */
export interface DispatchBatch {
  tasks: readonly Assignment[];
  /** Stored inputs of `tasks`, in the same order. */
  inputs: readonly EncodedValue[];
  /** Wire facts of every job in the batch. */
  jobs: ReadonlyMap<JobId, JobWireInfo>;
  /** Stored checkpoints of the tasks that resume from one, by position in `tasks`. */
  resumes?: ReadonlyMap<number, EncodedValue>;
}

/**
 * @param inputs inputs of `tasks`, in the same order
 * @param jobs wire facts of every job in the batch
 */
export function buildTasksFrame(
  tasks: readonly Assignment[],
  inputs: readonly EncodedValue[],
  jobs: ReadonlyMap<JobId, JobWireInfo>,
  resumes?: ReadonlyMap<number, EncodedValue>,
): string | Uint8Array {
  const jobsWire: Record<string, JobWire> = {};
  for (const [id, job] of jobs) {
    jobsWire[id] = {
      module: job.moduleHash,
      timeoutMs: job.timeoutMs,
      name: job.name,
    };
  }
  // One group per job, in the order the tasks came.
  const groups = new Map<JobId, number[]>();
  for (let i = 0; i < tasks.length; i++) {
    const jobId = (tasks[i] as Assignment).jobId;
    let members = groups.get(jobId);
    if (!members) groups.set(jobId, (members = []));
    members.push(i);
  }
  // Tasks that resume from a checkpoint are rare: they take the general path below.
  if (
    resumes === undefined &&
    inputs.every((input) => typeof input === 'string')
  ) {
    let frame = `{"type":"tasks","jobs":${JSON.stringify(jobsWire)},"groups":[`;
    let first = true;
    for (const [jobId, members] of groups) {
      // Four columns built side by side in one pass (the hot path of dispatch).
      let leases = '';
      let indexes = '';
      let attempts = '';
      let texts = '';
      for (let k = 0; k < members.length; k++) {
        const i = members[k] as number;
        const task = tasks[i] as Assignment;
        const comma = k === 0 ? '' : ',';
        leases += comma + task.lease;
        indexes += comma + task.index;
        attempts += comma + task.attempt;
        texts += comma + (inputs[i] as string);
      }
      frame +=
        `${first ? '' : ','}{"job":${JSON.stringify(jobId)},"leases":[${leases}],` +
        `"indexes":[${indexes}],"attempts":[${attempts}],"inputs":[${texts}]}`;
      first = false;
    }
    return `${frame}]}`;
  }
  const message: Tasks = {
    type: 'tasks',
    jobs: jobsWire,
    groups: [...groups].map(([jobId, members]) => {
      const group: TaskGroup = {
        job: jobId,
        leases: members.map((i) => (tasks[i] as Assignment).lease),
        indexes: members.map((i) => (tasks[i] as Assignment).index),
        attempts: members.map((i) => (tasks[i] as Assignment).attempt),
        inputs: members.map((i) => decodeStored(inputs[i] as EncodedValue)),
      };
      const resume = resumeColumn(members, resumes);
      if (resume) group.resume = resume;
      return group;
    }),
  };
  return encodeFrame(message);
}

/** The `resume` entries of a group whose tasks are `members` (positions in the batch). */
function resumeColumn(
  members: readonly number[],
  resumes: ReadonlyMap<number, EncodedValue> | undefined,
): ResumeEntry[] | undefined {
  if (resumes === undefined) return undefined;
  const out: ResumeEntry[] = [];
  for (let at = 0; at < members.length; at++) {
    const stored = resumes.get(members[at] as number);
    if (stored !== undefined)
      out.push({ at, state: decodeStored(stored) as object });
  }
  return out.length > 0 ? out : undefined;
}
