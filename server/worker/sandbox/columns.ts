/**
 * The pipe's hot frames in columns of doubles instead of a structured clone: a batch
 * handed to the child (`submit`) and the successes it reports (`done`). `v8.serialize`
 * costs a few hundred nanoseconds per task each way (measured), more than a trivial
 * task itself; a column of doubles is one copy. Values (inputs, outputs) that are all
 * numbers ride as doubles too; any others as one structured clone of their column.
 * Anything else (failures, skipped, checkpoints to resume, control messages) keeps the
 * structured-clone frame of frames.ts.
 *
 * Body layout (after the frame's u32 length): u8 kind, u8 values format, u16 0, u32 n,
 * u32 header bytes, then n doubles per column, the header (JSON: a batch's job fields;
 * a `done`'s places of output texts, if any) and the values' structured clone when not
 * doubles. `done` frames come from the untrusted
 * child: the decoder checks every length and the values' shape, and throws on a
 * mismatch (the reader then treats the frame as malformed).
 */
import { deserialize, serialize } from 'node:v8';
import type { Lease, TaskBatch } from '../../../shared/protocol.js';

export const FRAME_CLONE = 0;
export const FRAME_SUBMIT = 1;
export const FRAME_DONE = 2;

const VALUES_DOUBLES = 0;
const VALUES_CLONE = 1;
/** u32 frame length + u8 kind, u8 format, u16, u32 n, u32 header bytes. */
const HEAD = 16;

/** What a `done` frame carries: successes only, each with its busy time. */
export interface DoneColumns {
  t: 'done';
  leases: Lease[];
  outputs: unknown[];
  failures: [];
  busyMs: number[];
  /** Which outputs are JSON texts (checked by the executor like any `done`). */
  texts: number[] | undefined;
}

const allNumbers = (values: readonly unknown[]): boolean => {
  for (const value of values) if (typeof value !== 'number') return false;
  return true;
};

/** A frame (length included) of `columns` of doubles, a header and the values. */
function columnsFrame(
  kind: number,
  columns: readonly (readonly unknown[])[],
  values: readonly unknown[],
  header: Buffer | null,
): Buffer {
  const n = values.length;
  const doubles = allNumbers(values);
  const clone = doubles ? null : serialize(values);
  const cols = columns.length + (doubles ? 1 : 0);
  const headerBytes = header?.length ?? 0;
  const size = HEAD + cols * n * 8 + headerBytes + (clone?.length ?? 0);
  const frame = Buffer.from(new ArrayBuffer(size));
  frame.writeUInt32LE(size - 4, 0);
  frame[4] = kind;
  frame[5] = doubles ? VALUES_DOUBLES : VALUES_CLONE;
  frame.writeUInt16LE(0, 6);
  frame.writeUInt32LE(n, 8);
  frame.writeUInt32LE(headerBytes, 12);
  const f64 = new Float64Array(frame.buffer, HEAD, cols * n);
  columns.forEach((column, c) => f64.set(column as number[], c * n));
  if (doubles) f64.set(values as number[], columns.length * n);
  let at = HEAD + cols * n * 8;
  if (header) at += header.copy(frame, at);
  if (clone) clone.copy(frame, at);
  return frame;
}

/** The fast frame of a batch, or null if it has checkpoints to resume (rare). */
export function submitFrame(batch: TaskBatch): Buffer | null {
  const { leases, indexes, attempts, inputs } = batch;
  if (batch.resumes !== undefined || !allNumbers(leases)) return null;
  const n = leases.length;
  if (indexes.length !== n || attempts.length !== n || inputs.length !== n)
    return null;
  const { job, module, name, timeoutMs, inputsJson } = batch;
  const header = Buffer.from(
    JSON.stringify({ job, module, name, timeoutMs, inputsJson }),
  );
  return columnsFrame(
    FRAME_SUBMIT,
    [leases, indexes, attempts],
    inputs,
    header,
  );
}

/** The fast frame of successes with busy times, or null for anything else. */
export function doneFrame(done: {
  leases: readonly Lease[];
  outputs: readonly unknown[];
  failures: readonly unknown[];
  skipped?: readonly Lease[] | undefined;
  busyMs?: readonly number[] | undefined;
  texts?: readonly number[] | undefined;
}): Buffer | null {
  const { leases, outputs, busyMs, texts } = done;
  const n = leases.length;
  if (n === 0 || done.failures.length > 0 || (done.skipped?.length ?? 0) > 0)
    return null;
  if (outputs.length !== n || busyMs?.length !== n) return null;
  if (!allNumbers(leases) || !allNumbers(busyMs)) return null;
  // Records: every output a text, said in a word instead of a list of n places.
  const header =
    texts === undefined || texts.length === 0
      ? null
      : Buffer.from(JSON.stringify(texts.length === n ? 'all' : texts));
  return columnsFrame(FRAME_DONE, [leases, busyMs], outputs, header);
}

/**
 * Reads one column of `n` doubles at `at` as a packed array (postMessage clones a packed
 * array fast, a holey one element by element), through one aligned copy.
 */
function readColumn(body: Buffer, at: number, n: number): number[] {
  const doubles = new Float64Array(n);
  new Uint8Array(doubles.buffer).set(body.subarray(at, at + n * 8));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(doubles[i] as number);
  return out;
}

/** A packed copy of an array v8.deserialize made (those come holey). */
function packed(values: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const value of values) out.push(value);
  return out;
}

/** Decodes a body (the frame without its length) of `columns` doubles + values. */
function readColumns(
  body: Buffer,
  columns: number,
): { cols: number[][]; values: unknown[]; header: Buffer } {
  if (body.length < HEAD - 4) throw new Error('a columns frame is too short');
  const format = body[1];
  const n = body.readUInt32LE(4);
  const headerBytes = body.readUInt32LE(8);
  if (format !== VALUES_DOUBLES && format !== VALUES_CLONE)
    throw new Error(`unknown values format ${format}`);
  const all = columns + (format === VALUES_DOUBLES ? 1 : 0);
  const start = HEAD - 4;
  const end = start + all * n * 8 + headerBytes;
  if (end > body.length || (format === VALUES_DOUBLES && end !== body.length))
    throw new Error('a columns frame does not match its lengths');
  const cols: number[][] = [];
  for (let c = 0; c < columns; c++)
    cols.push(readColumn(body, start + c * n * 8, n));
  let values: unknown[];
  if (format === VALUES_DOUBLES)
    values = readColumn(body, start + columns * n * 8, n);
  else {
    const clone: unknown = deserialize(body.subarray(end));
    if (!Array.isArray(clone) || clone.length !== n)
      throw new Error('the values of a columns frame do not match its length');
    values = clone;
  }
  const header = body.subarray(start + all * n * 8, end);
  return { cols, values, header };
}

/** A `submit` body (from the trusted worker) back into its batch. */
export function readSubmit(body: Buffer): { t: 'submit'; batch: TaskBatch } {
  const { cols, values, header } = readColumns(body, 3);
  const head = JSON.parse(header.toString('utf8')) as Pick<
    TaskBatch,
    'job' | 'module' | 'name' | 'timeoutMs' | 'inputsJson'
  >;
  const [leases, indexes, attempts] = cols as [Lease[], number[], number[]];
  return {
    t: 'submit',
    batch: {
      ...head,
      leases,
      indexes,
      attempts,
      inputs: body[1] === VALUES_CLONE ? packed(values) : values,
    },
  };
}

/**
 * A `done` body from the untrusted child. Its leases and busy times are only numbers
 * here: the executor accepts held leases and plausible times only.
 */
export function readDone(body: Buffer): DoneColumns {
  const { cols, values, header } = readColumns(body, 2);
  const [leases, busyMs] = cols as [Lease[], number[]];
  return {
    t: 'done',
    leases,
    outputs: values,
    failures: [],
    busyMs,
    texts: header.length === 0 ? undefined : textPlaces(header, values.length),
  };
}

/** The places of output texts a `done` header names ('all' or a list; checked later). */
function textPlaces(header: Buffer, n: number): number[] {
  const places: unknown = JSON.parse(header.toString('utf8'));
  if (places === 'all') return Array.from({ length: n }, (_, i) => i);
  if (!Array.isArray(places))
    throw new Error('the text places of a done frame are not a list');
  return places as number[];
}
