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
import { Utf8Bytes } from './utf8-bytes.js';

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
  /**
   * The inputs of `tasks` as their JSON texts joined with ',', when all are texts of one
   * job and none resumes (then `inputs` is empty): spliced into the frame as they are.
   */
  joined?: string;
}

/**
 * A frame to send: a text frame (a string, or its UTF-8 bytes when big), or a binary
 * (codec) frame.
 */
export interface EncodedFrame {
  data: string | Uint8Array;
  binary: boolean;
}

/**
 * Input characters from which a text frame is written as bytes: below it the frame is
 * a string small enough for V8's young generation, which costs less than the calls
 * that copy each input into a buffer.
 */
const BYTES_FROM_CHARS = 32 * 1024;

/**
 * The `tasks` frame of a batch as a string, or bytes for a binary frame (see
 * {@link encodeTasksFrame}, which the gateway sends as it is).
 */
export function buildTasksFrame(
  tasks: readonly Assignment[],
  inputs: readonly EncodedValue[],
  jobs: ReadonlyMap<JobId, JobWireInfo>,
  resumes?: ReadonlyMap<number, EncodedValue>,
): string | Uint8Array {
  const { data, binary } = encodeTasksFrame(tasks, inputs, jobs, resumes);
  return typeof data === 'string' || binary
    ? data
    : Buffer.from(data).toString('utf8');
}

/**
 * @param inputs inputs of `tasks`, in the same order
 * @param jobs wire facts of every job in the batch
 */
export function encodeTasksFrame(
  tasks: readonly Assignment[],
  inputs: readonly EncodedValue[],
  jobs: ReadonlyMap<JobId, JobWireInfo>,
  resumes?: ReadonlyMap<number, EncodedValue>,
  joined?: string,
): EncodedFrame {
  if (joined !== undefined && resumes === undefined)
    return { data: joinedFrame(tasks, joined, jobs), binary: false };
  const jobsWire = wireJobs(jobs);
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
    const texts = inputs as readonly string[];
    let chars = 0;
    for (const text of texts) chars += text.length;
    const data =
      chars < BYTES_FROM_CHARS
        ? textFrameString(tasks, texts, jobsWire, groups)
        : textFrame(tasks, texts, jobsWire, groups);
    return { data, binary: false };
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
  const frame = encodeFrame(message);
  return { data: frame, binary: typeof frame !== 'string' };
}

/**
 * A text `tasks` frame of stored JSON inputs, written as UTF-8 bytes: each input is
 * copied into the frame once. Built as one string instead, a frame of thousands of
 * records was copied three times more (joined, then measured and encoded by the
 * socket), each copy into fresh memory past V8's large-object size.
 */
function textFrame(
  tasks: readonly Assignment[],
  inputs: readonly string[],
  jobsWire: Record<string, JobWire>,
  groups: ReadonlyMap<JobId, number[]>,
): Buffer {
  const head = `{"type":"tasks","jobs":${JSON.stringify(jobsWire)},"groups":[`;
  // Each group's columns first, so that the buffer is sized to the frame as if every
  // input were ASCII (most are; it grows only for the others).
  const heads: string[] = [];
  let size = head.length + 2;
  for (const [jobId, members] of groups) {
    // Three number columns built side by side in one pass (the hot path of dispatch).
    let leases = '';
    let indexes = '';
    let attempts = '';
    for (let k = 0; k < members.length; k++) {
      const i = members[k] as number;
      const task = tasks[i] as Assignment;
      const comma = k === 0 ? '' : ',';
      leases += comma + task.lease;
      indexes += comma + task.index;
      attempts += comma + task.attempt;
      size += (inputs[i] as string).length + 1;
    }
    const group =
      `${heads.length === 0 ? '' : ','}{"job":${JSON.stringify(jobId)},"leases":[${leases}],` +
      `"indexes":[${indexes}],"attempts":[${attempts}],"inputs":[`;
    heads.push(group);
    size += group.length + 2;
  }
  const out = new Utf8Bytes(size);
  out.put(head);
  let g = 0;
  for (const members of groups.values()) {
    out.put(heads[g++] as string);
    for (let k = 0; k < members.length; k++) {
      if (k !== 0) out.put(',');
      out.put(inputs[members[k] as number] as string);
    }
    out.put(']}');
  }
  out.put(']}');
  return out.bytes();
}

/** A small text `tasks` frame as one string (see {@link BYTES_FROM_CHARS}). */
function textFrameString(
  tasks: readonly Assignment[],
  inputs: readonly string[],
  jobsWire: Record<string, JobWire>,
  groups: ReadonlyMap<JobId, number[]>,
): string {
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

/**
 * The `tasks` frame of one job's tasks whose inputs are `joined` (their JSON texts joined
 * with ','): one group, the inputs spliced in as one piece; as bytes when big (see
 * {@link textFrame}).
 */
function joinedFrame(
  tasks: readonly Assignment[],
  joined: string,
  jobs: ReadonlyMap<JobId, JobWireInfo>,
): string | Buffer {
  let leases = '';
  let indexes = '';
  let attempts = '';
  for (let k = 0; k < tasks.length; k++) {
    const task = tasks[k] as Assignment;
    const comma = k === 0 ? '' : ',';
    leases += comma + task.lease;
    indexes += comma + task.index;
    attempts += comma + task.attempt;
  }
  const head =
    `${frameHead((tasks[0] as Assignment).jobId, jobs)}` +
    `"leases":[${leases}],"indexes":[${indexes}],"attempts":[${attempts}],"inputs":[`;
  if (joined.length < BYTES_FROM_CHARS) return `${head}${joined}]}]}`;
  const out = new Utf8Bytes(head.length + joined.length + 4);
  out.put(head);
  out.put(joined);
  out.put(']}]}');
  return out.bytes();
}

function wireJobs(
  jobs: ReadonlyMap<JobId, JobWireInfo>,
): Record<string, JobWire> {
  const jobsWire: Record<string, JobWire> = {};
  for (const [id, job] of jobs) {
    jobsWire[id] = {
      module: job.moduleHash,
      timeoutMs: job.timeoutMs,
      name: job.name,
    };
  }
  return jobsWire;
}

/** The last frame head written, and the one job it was written for. */
let lastHead: { jobId: JobId; job: JobWireInfo; text: string } | undefined;

/**
 * `{"type":"tasks","jobs":{...},"groups":[{"job":"<id>",` for a batch of one job: the
 * same for every frame of that job, so the last one is kept (at one task at a time,
 * writing it was a tenth of the master's work per frame).
 */
function frameHead(
  jobId: JobId,
  jobs: ReadonlyMap<JobId, JobWireInfo>,
): string {
  const job = jobs.size === 1 ? jobs.get(jobId) : undefined;
  const kept = lastHead;
  if (
    job !== undefined &&
    kept !== undefined &&
    kept.jobId === jobId &&
    kept.job.name === job.name &&
    kept.job.moduleHash === job.moduleHash &&
    kept.job.timeoutMs === job.timeoutMs
  )
    return kept.text;
  const text =
    `{"type":"tasks","jobs":${JSON.stringify(wireJobs(jobs))},` +
    `"groups":[{"job":${JSON.stringify(jobId)},`;
  if (job !== undefined) lastHead = { jobId, job, text };
  return text;
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
