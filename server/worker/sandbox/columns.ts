/**
 * The pipe's hot frames in columns of doubles instead of a structured clone: a batch
 * handed to the child (`submit`) and the successes it reports (`done`). `v8.serialize`
 * costs a few hundred nanoseconds per task each way (measured), more than a trivial
 * task itself; a column of doubles is one copy. Values (inputs, outputs) that are all
 * numbers ride as doubles too; values that are all strings (records' JSON texts) as one
 * joined text (latin1 if every char fits a byte, else UTF-16; both lossless, lone
 * surrogates too) with a column of their lengths: a few copies instead of a clone that
 * costs 2-3x as much per string; any others as one structured clone of their column.
 * A batch's input texts (records, shared/tasks-text.ts) go as one UTF-8 span `a,b,c`,
 * the slice of the master's frame they came in: not split, joined nor scanned here; the
 * task thread parses the span whole, which also checks that it holds n inputs.
 * Output texts that are all of a `done` go as a run (text-runs.ts).
 * Anything else (failures, skipped, checkpoints to resume, control messages) keeps the
 * structured-clone frame of frames.ts.
 *
 * Body layout (after the frame's u32 length): u8 kind, u8 values format, u16 0, u32 n,
 * u32 header bytes, then n doubles per column (`submit`: indexes, attempts; `done`: task
 * ids, busy times; then the values' lengths for strings), the header (JSON: a batch's
 * job fields and its first task id, held.ts; a `done`'s places of output texts, if any)
 * and the values' joined text or structured clone when not doubles. `done` frames come
 * from the untrusted child: the decoder checks every length and the values' shape, and
 * throws on a mismatch (the reader then treats the frame as malformed); it leaves the
 * columns as typed arrays, which the executor checks in one pass.
 */
import { deserialize, serialize } from 'node:v8';
import type { Lease, TaskBatch } from '../../../shared/protocol.js';
import { inputsSpan } from '../../../shared/tasks-text.js';
import {
  TextList,
  type TextsRun,
  isRun,
  readRun,
  runPart,
  stringLengths,
} from './text-runs.js';

export const FRAME_CLONE = 0;
export const FRAME_SUBMIT = 1;
export const FRAME_DONE = 2;

const VALUES_DOUBLES = 0;
const VALUES_CLONE = 1;
const VALUES_LATIN1 = 2;
const VALUES_UTF16 = 3;
/** A batch's input texts as one span (`a,b,c`): the thread parses it whole. */
const VALUES_SPAN = 4;
/** The same in UTF-16 (a text with a lone surrogate, which UTF-8 cannot hold). */
const VALUES_SPAN_UTF16 = 5;

const wellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();
/** A char that a latin1 byte cannot hold. */
const WIDE_CHAR = /[\u0100-\uffff]/;
/** u32 frame length + u8 kind, u8 format, u16, u32 n, u32 header bytes. */
const HEAD = 16;

/** What a `done` frame carries: successes only (by task id), each with its busy time. */
export interface DoneColumns {
  t: 'done';
  leases: Float64Array;
  outputs: Float64Array | unknown[] | TextsRun;
  failures: [];
  busyMs: Float64Array;
  /** Which outputs are JSON texts (checked by the executor like any `done`). */
  texts: number[] | 'all' | undefined;
}

type Column = readonly unknown[] | Float64Array;

const isSpan = (format: number): boolean =>
  format === VALUES_SPAN || format === VALUES_SPAN_UTF16;

/** A batch's input texts as the one span the thread parses (submit frames only). */
class Span {
  readonly text: string;
  readonly n: number;
  constructor(text: string, n: number) {
    this.text = text;
    this.n = n;
  }
}

/** Doubles already, or a list of numbers only (checked in one pass). */
const allNumbers = (values: Column): boolean => {
  if (values instanceof Float64Array) return true;
  for (const value of values) if (typeof value !== 'number') return false;
  return true;
};

/** How the values ride: a last column of doubles, and the bytes after the header. */
function valuesPart(values: Column | Span | TextList): {
  format: number;
  column: Column | null;
  tail:
    { text: string; encoding: 'latin1' | 'utf16le' | 'utf8' } | Buffer | null;
} {
  if (values instanceof TextList) {
    const run = runPart(values);
    if (run !== null) return run;
  }
  if (values instanceof Span)
    return wellFormed(values.text)
      ? {
          format: VALUES_SPAN,
          column: null,
          tail: { text: values.text, encoding: 'utf8' },
        }
      : {
          format: VALUES_SPAN_UTF16,
          column: null,
          tail: { text: values.text, encoding: 'utf16le' },
        };
  const list: Column = values instanceof TextList ? values.texts : values;
  if (allNumbers(list))
    return { format: VALUES_DOUBLES, column: list, tail: null };
  const strings = list as readonly unknown[];
  const lengths = stringLengths(strings);
  if (lengths === null)
    return { format: VALUES_CLONE, column: null, tail: serialize(strings) };
  const text = strings.join('');
  return WIDE_CHAR.test(text)
    ? {
        format: VALUES_UTF16,
        column: lengths,
        tail: { text, encoding: 'utf16le' },
      }
    : {
        format: VALUES_LATIN1,
        column: lengths,
        tail: { text, encoding: 'latin1' },
      };
}

/** A frame (length included) of `columns` of doubles, a header and the values. */
function columnsFrame(
  kind: number,
  columns: readonly Column[],
  values: Column | Span | TextList,
  header: Buffer | null,
): Buffer {
  const n =
    values instanceof Span
      ? values.n
      : values instanceof TextList
        ? values.texts.length
        : values.length;
  const { format, column, tail } = valuesPart(values);
  const cols = columns.length + (column ? 1 : 0);
  const headerBytes = header?.length ?? 0;
  const tailBytes =
    tail === null
      ? 0
      : Buffer.isBuffer(tail)
        ? tail.length
        : Buffer.byteLength(tail.text, tail.encoding);
  const size = HEAD + cols * n * 8 + headerBytes + tailBytes;
  // Every byte is written below; a buffer of its own keeps the doubles aligned.
  const frame = Buffer.allocUnsafeSlow(size);
  frame.writeUInt32LE(size - 4, 0);
  frame[4] = kind;
  frame[5] = format;
  frame.writeUInt16LE(0, 6);
  frame.writeUInt32LE(n, 8);
  frame.writeUInt32LE(headerBytes, 12);
  const f64 = new Float64Array(frame.buffer, HEAD, cols * n);
  columns.forEach((c, k) => f64.set(c as ArrayLike<number>, k * n));
  if (column) f64.set(column as ArrayLike<number>, columns.length * n);
  let at = HEAD + cols * n * 8;
  if (header) at += header.copy(frame, at);
  if (Buffer.isBuffer(tail)) tail.copy(frame, at);
  else if (tail) frame.write(tail.text, at, tail.encoding);
  return frame;
}

/**
 * The fast frame of a batch whose tasks the child knows by ids `first`, `first + 1`, ...
 * (see held.ts), or null if it has checkpoints to resume (rare).
 */
export function submitFrame(batch: TaskBatch, first: number): Buffer | null {
  const { leases, indexes, attempts, inputs } = batch;
  if (batch.resumes !== undefined) return null;
  const n = leases.length;
  if (indexes.length !== n || attempts.length !== n || inputs.length !== n)
    return null;
  const { job, module, name, timeoutMs, inputsJson } = batch;
  const header = Buffer.from(
    JSON.stringify({ job, module, name, timeoutMs, inputsJson, first }),
  );
  // Input texts go as one span, never split or joined here when the frame's is kept.
  const values = inputsJson ? new Span(inputsSpan(batch), n) : inputs;
  return columnsFrame(FRAME_SUBMIT, [indexes, attempts], values, header);
}

/** The fast frame of successes with busy times, or null for anything else. */
export function doneFrame(done: {
  leases: readonly Lease[] | Float64Array;
  outputs: readonly unknown[] | Float64Array;
  failures: readonly unknown[];
  skipped?: readonly Lease[] | undefined;
  busyMs?: readonly number[] | Float64Array | undefined;
  texts?: readonly number[] | undefined;
}): Buffer | null {
  const { leases, outputs, busyMs, texts } = done;
  const n = leases.length;
  if (n === 0 || done.failures.length > 0 || (done.skipped?.length ?? 0) > 0)
    return null;
  if (outputs.length !== n || busyMs?.length !== n) return null;
  if (!allNumbers(leases) || !allNumbers(busyMs)) return null;
  // Records: every output a text, said in a word instead of a list of n places, and
  // sent as one run the parent splices whole.
  const all = texts !== undefined && texts.length === n;
  const header =
    texts === undefined || texts.length === 0
      ? null
      : Buffer.from(JSON.stringify(all ? 'all' : texts));
  const values = all ? new TextList(outputs as readonly string[]) : outputs;
  return columnsFrame(FRAME_DONE, [leases, busyMs], values, header);
}

/** `count` doubles at `at`, through one aligned copy (the body may be unaligned). */
function readDoubles(body: Buffer, at: number, count: number): Float64Array {
  const doubles = new Float64Array(count);
  new Uint8Array(doubles.buffer).set(body.subarray(at, at + count * 8));
  return doubles;
}

/**
 * A column as a packed array (postMessage clones a packed array fast, a typed or holey
 * one element by element).
 */
function packedNumbers(
  doubles: Float64Array,
  from: number,
  n: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(doubles[from + i] as number);
  return out;
}

/** A packed copy of an array v8.deserialize made (those come holey). */
function packed(values: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const value of values) out.push(value);
  return out;
}

/** A body's columns (all of them, values' lengths too) read in one copy. */
interface RawColumns {
  /** `columns` columns of `n` doubles each, one after another; then the lengths. */
  doubles: Float64Array;
  n: number;
  format: number;
  values: Float64Array | unknown[] | TextsRun | null;
  header: Buffer;
}

/** Decodes a body (the frame without its length) of `columns` doubles + values. */
function readColumns(
  body: Buffer,
  columns: number,
  wantValues: boolean,
  spanAllowed = false,
  runAllowed = false,
): RawColumns {
  if (body.length < HEAD - 4) throw new Error('a columns frame is too short');
  const format = body[1] as number;
  const n = body.readUInt32LE(4);
  const headerBytes = body.readUInt32LE(8);
  if (
    format !== VALUES_DOUBLES &&
    format !== VALUES_CLONE &&
    format !== VALUES_LATIN1 &&
    format !== VALUES_UTF16 &&
    !(isSpan(format) && spanAllowed) &&
    !(isRun(format) && runAllowed)
  )
    throw new Error(`unknown values format ${format}`);
  const all = columns + (format === VALUES_CLONE || isSpan(format) ? 0 : 1);
  const start = HEAD - 4;
  const end = start + all * n * 8 + headerBytes;
  if (end > body.length || (format === VALUES_DOUBLES && end !== body.length))
    throw new Error('a columns frame does not match its lengths');
  const doubles = readDoubles(body, start, all * n);
  let values: Float64Array | unknown[] | TextsRun | null = null;
  if (format === VALUES_DOUBLES)
    values = wantValues ? doubles.subarray(columns * n, all * n) : null;
  else if (isSpan(format))
    values = [body.toString(format === VALUES_SPAN ? 'utf8' : 'utf16le', end)];
  else if (isRun(format))
    values = readRun(body, format, doubles.subarray(columns * n), n, end);
  else if (format !== VALUES_CLONE)
    values = readStrings(body, format, doubles.subarray(columns * n), n, end);
  else {
    const clone: unknown = deserialize(body.subarray(end));
    if (!Array.isArray(clone) || clone.length !== n)
      throw new Error('the values of a columns frame do not match its length');
    values = clone;
  }
  const header = body.subarray(start + all * n * 8, end);
  return { doubles, n, format, values, header };
}

/**
 * The `n` strings of a joined text at `end` whose lengths are the column at `at`.
 * Lengths come from the child too: each must be a whole count, and all must add up to
 * the text exactly.
 */
function readStrings(
  body: Buffer,
  format: number,
  lengths: Float64Array,
  n: number,
  end: number,
): string[] {
  const wide = format === VALUES_UTF16;
  if (wide && (body.length - end) % 2 !== 0)
    throw new Error('a columns frame has a torn UTF-16 text');
  const text = body.toString(wide ? 'utf16le' : 'latin1', end);
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i] as number;
    const to = from + length;
    if (!Number.isInteger(length) || length < 0 || to > text.length)
      throw new Error('the string lengths of a columns frame are wrong');
    out.push(text.slice(from, to));
    from = to;
  }
  if (from !== text.length)
    throw new Error('the string lengths of a columns frame are wrong');
  return out;
}

/** The head of a `submit` frame: the batch's job fields and its first task's id. */
type SubmitHead = Pick<
  TaskBatch,
  'job' | 'module' | 'name' | 'timeoutMs' | 'inputsJson'
> & { first: number };

/** A `submit` body (from the trusted worker) back into its batch, ids as leases. */
export function readSubmit(body: Buffer): { t: 'submit'; batch: TaskBatch } {
  const { doubles, n, format, values, header } = readColumns(
    body,
    2,
    false,
    true,
  );
  const { first, ...head } = JSON.parse(header.toString('utf8')) as SubmitHead;
  const leases: Lease[] = [];
  for (let i = 0; i < n; i++) leases.push((first + i) as Lease);
  const batch: TaskBatch = {
    ...head,
    leases,
    indexes: packedNumbers(doubles, 0, n),
    attempts: packedNumbers(doubles, n, n),
    inputs: [],
  };
  // A span is the thread's to parse (run() in thread-entry.ts).
  if (isSpan(format)) batch.inputsSpan = (values as string[])[0] as string;
  else
    batch.inputs =
      format === VALUES_DOUBLES
        ? packedNumbers(doubles, 2 * n, n)
        : format === VALUES_CLONE
          ? packed(values as unknown[])
          : (values as unknown[]);
  return { t: 'submit', batch };
}

/**
 * A `done` body from the untrusted child. Its ids and busy times are only numbers
 * here: the executor accepts held ids and plausible times only.
 */
export function readDone(body: Buffer): DoneColumns {
  const raw = readColumns(body, 2, true, false, true);
  const { doubles, n, values, header } = raw;
  return {
    t: 'done',
    leases: doubles.subarray(0, n),
    outputs: values as Float64Array | unknown[] | TextsRun,
    failures: [],
    busyMs: doubles.subarray(n, 2 * n),
    texts: header.length === 0 ? undefined : textPlaces(header),
  };
}

/** The places of output texts a `done` header names ('all' or a list; checked later). */
function textPlaces(header: Buffer): number[] | 'all' {
  const places: unknown = JSON.parse(header.toString('utf8'));
  if (places === 'all') return 'all';
  if (!Array.isArray(places))
    throw new Error('the text places of a done frame are not a list');
  return places as number[];
}
