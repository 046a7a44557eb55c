/**
 * A large `tasks` frame of records decoded from its UTF-8 bytes, never as one string.
 * A string of more than 128 KiB lives in V8's large-object space: each one is a fresh
 * mapping of memory, which costs far more than its copy (about a microsecond per
 * record measured, on a virtual machine that returns freed pages to its host), and the
 * frame was one, its inputs joined for the task thread another, the thread's parse of
 * them a third. Here only the frame's skeleton (everything but the inputs) and each run
 * of inputs of at most {@link RUN_BYTES} are decoded: a group becomes batches of such
 * runs, each batch with its inputs' texts and their span (shared/tasks-text.ts), all
 * strings the young generation takes.
 *
 * Like the text decoder, anything unusual (spaces between inputs, checkpoints to
 * resume, a frame this walk does not expect) returns null, and the caller decodes the
 * frame as text.
 */
import { isTasks } from '../../shared/protocol-fast.js';
import {
  expandTasks,
  type TaskBatch,
  type Tasks,
} from '../../shared/protocol.js';
import {
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from '../../shared/json-chars.js';
import { isSpace, JsonByteWalk, Unexpected } from '../../shared/json-bytes.js';

/** Frames from this many bytes are decoded here (below, one string costs less). */
export const BYTES_FRAME_MIN = 64 * 1024;
/** Most bytes of inputs one batch gets. */
const RUN_BYTES = 48 * 1024;

const PREFIX = Buffer.from('{"type":"tasks"');
const GROUPS = Buffer.from('"groups"');
const INPUTS = Buffer.from('"inputs"');

/** One group's inputs: each element's start and end (bytes), all without spaces. */
interface InputsArray {
  starts: number[];
  ends: number[];
}

class Walk extends JsonByteWalk<Buffer> {
  readonly arrays: InputsArray[] = [];
  skeleton = '';
  #copied = 0;

  keyIs(start: number, end: number, key: Buffer): boolean {
    return (
      end - start === key.length &&
      this.b.compare(key, 0, key.length, start, end) === 0
    );
  }

  /** Calls `onMember(keyStart, keyEnd, valueStart)` per member; returns the end. */
  eachMember(
    at: number,
    onMember: (keyStart: number, keyEnd: number, valueStart: number) => number,
  ): number {
    const { b } = this;
    if (b[at] !== OPEN_BRACE) throw new Unexpected();
    let i = this.skip(at + 1);
    if (b[i] === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) throw new Unexpected();
      const keyEnd = this.stringEnd(i);
      const colon = this.skip(keyEnd);
      if (b[colon] !== COLON) throw new Unexpected();
      i = this.skip(onMember(i, keyEnd, this.skip(colon + 1)));
      if (b[i] === CLOSE_BRACE) return i + 1;
      if (b[i] !== COMMA) throw new Unexpected();
      i = this.skip(i + 1);
    }
  }

  /** Calls `onElement(start)` for each element of the array at `at`; returns its end. */
  eachElement(at: number, onElement: (start: number) => number): number {
    const { b } = this;
    if (b[at] !== OPEN_BRACKET) throw new Unexpected();
    let i = this.skip(at + 1);
    if (b[i] === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.skip(onElement(i));
      if (b[i] === CLOSE_BRACKET) return i + 1;
      if (b[i] !== COMMA) throw new Unexpected();
      i = this.skip(i + 1);
    }
  }

  /** An inputs array: its elements' places, and its number in the skeleton. */
  inputs(at: number): number {
    const { b } = this;
    const starts: number[] = [];
    const ends: number[] = [];
    let i = at + 1;
    if (b[i] === CLOSE_BRACKET) throw new Unexpected();
    for (;;) {
      const end = this.valueEnd(i);
      // Only the master's compact writing: a span is then the elements as they are.
      if (end === i || isSpace(b[i]) || isSpace(b[end - 1]))
        throw new Unexpected();
      starts.push(i);
      ends.push(end);
      if (b[end] === CLOSE_BRACKET) break;
      i = end + 1;
    }
    this.skeleton +=
      b.toString('utf8', this.#copied, at) + String(this.arrays.length);
    this.#copied = (ends[ends.length - 1] as number) + 1;
    this.arrays.push({ starts, ends });
    return this.#copied;
  }

  group(at: number): number {
    return this.eachMember(at, (keyStart, keyEnd, value) =>
      this.keyIs(keyStart, keyEnd, INPUTS) && this.b[value] === OPEN_BRACKET
        ? this.inputs(value)
        : this.valueEnd(value),
    );
  }

  /** Walks the frame; returns the skeleton (inputs arrays as their numbers). */
  run(): string {
    const end = this.eachMember(this.skip(0), (keyStart, keyEnd, value) =>
      this.keyIs(keyStart, keyEnd, GROUPS) && this.b[value] === OPEN_BRACKET
        ? this.eachElement(value, (start) => this.group(start))
        : this.valueEnd(value),
    );
    if (this.skip(end) !== this.b.length) throw new Unexpected();
    return this.skeleton + this.b.toString('utf8', this.#copied);
  }
}

/** Runs of inputs: `[from, to)` element ranges of at most RUN_BYTES (or one input). */
function runsOf({ starts, ends }: InputsArray): number[] {
  const cuts = [0];
  let runStart = starts[0] as number;
  for (let i = 1; i < starts.length; i++)
    if ((ends[i] as number) - runStart > RUN_BYTES) {
      cuts.push(i);
      runStart = starts[i] as number;
    }
  cuts.push(starts.length);
  return cuts;
}

/** One run's texts and span, decoded once (texts as slices when all ASCII). */
function decodeRun(
  b: Buffer,
  { starts, ends }: InputsArray,
  from: number,
  to: number,
): { texts: string[]; span: string } {
  const base = starts[from] as number;
  const span = b.toString('utf8', base, ends[to - 1] as number);
  const texts: string[] = [];
  if (span.length === (ends[to - 1] as number) - base)
    for (let i = from; i < to; i++)
      texts.push(
        span.slice((starts[i] as number) - base, (ends[i] as number) - base),
      );
  else
    for (let i = from; i < to; i++)
      texts.push(b.toString('utf8', starts[i] as number, ends[i] as number));
  return { texts, span };
}

/** Whether `b` may be a large `tasks` frame of records (cheap checks only). */
export function mayBeRecordTasks(b: Buffer): boolean {
  return (
    b.length >= BYTES_FRAME_MIN &&
    b.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) === 0 &&
    (b.indexOf('"inputs":[{') !== -1 || b.indexOf('"inputs":[[') !== -1)
  );
}

/**
 * The batches of a `tasks` frame's bytes, each input as its JSON text, in runs of at
 * most {@link RUN_BYTES} per batch; null if this decoder does not take the frame.
 */
export function decodeTasksBytes(b: Buffer): TaskBatch[] | null {
  const walk = new Walk(b);
  let parsed: unknown;
  try {
    parsed = JSON.parse(walk.run());
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const groups = (parsed as { groups?: unknown }).groups;
  if (!Array.isArray(groups)) return null;
  const runs: { texts: string[]; span: string; to: number }[][] = [];
  for (const g of groups) {
    const k = (g as { inputs?: unknown } | null)?.inputs;
    const array = typeof k === 'number' ? walk.arrays[k] : undefined;
    if (array === undefined || (g as { resume?: unknown }).resume !== undefined)
      return null;
    const cuts = runsOf(array);
    const parts: { texts: string[]; span: string; to: number }[] = [];
    const column: string[] = [];
    for (let r = 1; r < cuts.length; r++) {
      const run = decodeRun(b, array, cuts[r - 1] as number, cuts[r] as number);
      for (const text of run.texts) column.push(text);
      parts.push({ ...run, to: cuts[r] as number });
    }
    (g as { inputs: unknown }).inputs = column;
    runs.push(parts);
  }
  const message = parsed as Record<string, unknown>;
  if (message.type !== 'tasks' || !isTasks(message)) return null;
  const out: TaskBatch[] = [];
  expandTasks(message as Tasks).forEach((batch, j) => {
    let from = 0;
    for (const { texts, span, to } of runs[j] ?? []) {
      out.push({
        ...batch,
        leases: batch.leases.slice(from, to),
        indexes: batch.indexes.slice(from, to),
        attempts: batch.attempts.slice(from, to),
        inputs: texts,
        inputsJson: true,
        inputsSpan: span,
      });
      from = to;
    }
  });
  return out;
}
