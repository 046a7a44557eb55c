/**
 * A `tasks` frame of records decoded without building the records: each input stays
 * the JSON text it has in the frame (split out, not parsed), and the task thread
 * parses its batch's inputs in one go (which checks them). On the worker's own thread this saves parsing
 * every record, and cloning it (to the sandbox and to the thread) as an object.
 *
 * Frames whose inputs are all numbers, strings and the like keep the plain decoder
 * (one native parse is cheaper than scanning them); so does anything unusual (the
 * decoder then returns null and the caller falls back to `decodeWorkerBoundMessage`).
 */
import { JsonScanner } from './json-scan.js';
import { isTasks } from './protocol-fast.js';
import { expandTasks, type TaskBatch, type Tasks } from './protocol.js';
import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from './json-chars.js';

const scanner = new JsonScanner();

/** True if the frame is a `tasks` frame worth decoding with its inputs as text. */
export function hasRecordInputs(frame: string): boolean {
  return (
    frame.startsWith('{"type":"tasks"') &&
    (frame.includes('"inputs":[{') || frame.includes('"inputs":[['))
  );
}

const isSpace = (c: number): boolean =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Thrown by the walk on anything it does not expect (the caller falls back). */
class Unexpected extends Error {}

/**
 * Calls `onMember(key, valueStart)` for each member of the object at `at` (`key` is
 * the raw key text, quotes included); `onMember` returns where the value ends.
 */
function eachMember(
  at: number,
  onMember: (key: string, valueStart: number) => number,
): number {
  const { text } = scanner;
  if (text.charCodeAt(at) !== OPEN_BRACE) throw new Unexpected();
  let i = scanner.skip(at + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new Unexpected();
    const keyEnd = closingQuote(text, i) + 1;
    const key = text.slice(i, keyEnd);
    i = scanner.skip(keyEnd);
    if (text.charCodeAt(i) !== COLON) throw new Unexpected();
    i = scanner.skip(onMember(key, scanner.skip(i + 1)));
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) throw new Unexpected();
    i = scanner.skip(i + 1);
  }
}

/** Calls `onElement(start)` for each element of the array at `at`; returns its end. */
function eachElement(at: number, onElement: (start: number) => number): number {
  const { text } = scanner;
  if (text.charCodeAt(at) !== OPEN_BRACKET) throw new Unexpected();
  let i = scanner.skip(at + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
  for (;;) {
    i = scanner.skip(onElement(i));
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACKET) return i + 1;
    if (c !== COMMA) throw new Unexpected();
    i = scanner.skip(i + 1);
  }
}

/** Index of the quote that closes the string opening at `at`. */
function closingQuote(text: string, at: number): number {
  let i = text.indexOf('"', at + 1);
  for (;;) {
    if (i === -1) throw new Unexpected();
    let slashes = 0;
    while (text.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return i;
    i = text.indexOf('"', i + 1);
  }
}

/**
 * Where the value starting at `at` ends (at the `,`, `]` or `}` after it). Only
 * strings and brackets are followed, string bodies skipped natively: JSON.parse checks
 * the text later (the skeleton here; each input in the task thread, where a batch
 * whose inputs do not parse fails).
 */
function elementEnd(text: string, at: number): number {
  let depth = 0;
  for (let i = at; ; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = closingQuote(text, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return i;
      depth--;
    } else if (c === COMMA && depth === 0) return i;
    else if (c !== c) throw new Unexpected(); // NaN: past the end
  }
}

/**
 * The elements of the inputs array at `at` as texts, where the array ends, and the
 * elements as one span (`column.join(',')`, a slice of the frame: no copy) when they
 * are written without spaces between them, as the master writes them.
 */
function inputTexts(
  text: string,
  at: number,
): { column: string[]; end: number; span: string | null } {
  const column: string[] = [];
  let i = scanner.skip(at + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET)
    return { column, end: i + 1, span: null };
  const first = i;
  let compact = true;
  for (;;) {
    const end = elementEnd(text, i);
    let last = end;
    while (last > i && isSpace(text.charCodeAt(last - 1))) last--;
    if (last === i) throw new Unexpected();
    if (last !== end) compact = false;
    column.push(text.slice(i, last));
    const c = text.charCodeAt(end);
    if (c === CLOSE_BRACKET)
      return {
        column,
        end: end + 1,
        span: compact ? text.slice(first, last) : null,
      };
    if (c !== COMMA) throw new Unexpected();
    i = scanner.skip(end + 1);
    if (i !== end + 1) compact = false;
  }
}

/**
 * The batches of a `tasks` text frame with `inputsJson` set (each input its JSON
 * text), or null if the frame is not one this decoder takes (the caller then decodes
 * it the usual way, which also reports what is wrong with it).
 */
export function decodeTasksText(frame: string): TaskBatch[] | null {
  scanner.reset(frame);
  // The frame with each group's inputs array replaced by its number in `texts`.
  const texts: string[][] = [];
  const spans: (string | null)[] = [];
  let skeleton = '';
  let copied = 0;
  const inputsArray = (start: number): number => {
    const { column, end, span } = inputTexts(frame, start);
    skeleton += frame.slice(copied, start) + String(texts.length);
    copied = end;
    texts.push(column);
    spans.push(span);
    return end;
  };
  const group = (start: number): number =>
    eachMember(start, (key, at) =>
      key === '"inputs"' && frame.charCodeAt(at) === OPEN_BRACKET
        ? inputsArray(at)
        : elementEnd(frame, at),
    );
  let parsed: unknown;
  try {
    const end = eachMember(scanner.skip(0), (key, at) =>
      key === '"groups"' && frame.charCodeAt(at) === OPEN_BRACKET
        ? eachElement(at, group)
        : elementEnd(frame, at),
    );
    if (scanner.skip(end) !== frame.length) return null;
    parsed = JSON.parse(skeleton + frame.slice(copied));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const groups = (parsed as { groups?: unknown }).groups;
  if (!Array.isArray(groups)) return null;
  const order: number[] = [];
  for (const g of groups) {
    const k = (g as { inputs?: unknown } | null)?.inputs;
    if (typeof k !== 'number' || texts[k] === undefined) return null;
    (g as { inputs: unknown }).inputs = texts[k];
    order.push(k);
  }
  const message = parsed as Record<string, unknown>;
  if (message.type !== 'tasks' || !isTasks(message)) return null;
  // expandTasks keeps the groups' order: batch j is group j.
  return expandTasks(message as Tasks).map((batch, j) => {
    const span = spans[order[j] as number];
    return span == null
      ? { ...batch, inputsJson: true }
      : { ...batch, inputsJson: true, inputsSpan: span };
  });
}

/** Where each input text starts in its batch's span, by batch (computed once). */
const offsetsOf = new WeakMap<object, number[] | null>();

/**
 * Where each of the batch's input texts starts in its span, and past the end; null if
 * it has no span, or one that does not match its texts' lengths (an edited batch).
 */
function spanOffsets(
  batch: Pick<TaskBatch, 'inputs' | 'inputsSpan'>,
): number[] | null {
  let offsets = offsetsOf.get(batch);
  if (offsets !== undefined) return offsets;
  const span = batch.inputsSpan;
  offsets = null;
  if (span !== undefined) {
    const texts = batch.inputs;
    const at: number[] = [0];
    let total = 0;
    for (const text of texts) {
      if (typeof text !== 'string') break;
      total += text.length + 1;
      at.push(total);
    }
    if (at.length === texts.length + 1 && total === span.length + 1)
      offsets = at;
  }
  offsetsOf.set(batch, offsets);
  return offsets;
}

/**
 * The JSON texts of inputs `from` .. `to - 1` of a batch of input texts as one span
 * (`inputs.slice(from, to).join(',')`): a slice of the batch's span when it has a
 * good one, else the join. Neither reads the texts' content.
 */
export function inputsSpan(
  batch: Pick<TaskBatch, 'inputs' | 'inputsSpan'>,
  from = 0,
  to = batch.inputs.length,
): string {
  if (to <= from) return '';
  const offsets = spanOffsets(batch);
  if (offsets !== null)
    return (batch.inputsSpan as string).slice(
      offsets[from] as number,
      (offsets[to] as number) - 1,
    );
  return (batch.inputs as string[]).slice(from, to).join(',');
}

/** The batches of a `tasks` frame of records with their inputs as text, or null. */
export function recordTasks(frame: string | Uint8Array): TaskBatch[] | null {
  return typeof frame === 'string' && hasRecordInputs(frame)
    ? decodeTasksText(frame)
    : null;
}
