/**
 * Inputs as the text they came in: a submit body or an NDJSON append is scanned (JSON
 * syntax, depth, `$base64` keys) instead of parsed, and each input is stored as its own
 * slice of the body. Only an input holding bytes (`{"$base64": ...}`) or written with
 * whitespace between its tokens is parsed and written again: bytes are stored as bytes,
 * and stored text stays compact (it is spliced into frames and NDJSON lines as it is).
 */
import { isAscii } from 'node:buffer';
import { AppError, ErrorCode } from '../../shared/errors.js';
import { CLOSE_BRACKET, COMMA, OPEN_BRACKET } from '../../shared/json-chars.js';
import {
  JsonScanError,
  JsonScanner,
  objectMembers,
  scanJson,
  type ScanFacts,
} from '../../shared/json-scan.js';
import { reviveBase64 } from '../base64-json.js';
import type { EncodedValue } from './store/store.js';
import { encodeStored } from './store/value-codec.js';

/**
 * A request body as text. Bodies of JSON are mostly ASCII, and an ASCII check (SIMD)
 * plus a latin1 copy costs about half of a UTF-8 decode of the same megabytes; any
 * other byte takes the UTF-8 decode (the two agree on ASCII).
 */
export const bodyText = (body: Buffer): string =>
  isAscii(body) ? body.toString('latin1') : body.toString('utf8');

/** A submit body with its inputs kept as stored values (undefined: none given). */
export interface ScannedSubmit {
  body: Record<string, unknown>;
  inputs: EncodedValue[] | undefined;
}

/** The stored form of one input given as JSON text that scanned clean. */
export function storedInput(
  text: string,
  facts: ScanFacts,
  index: number,
): EncodedValue {
  if (!facts.base64 && !facts.spaced) return text;
  try {
    const value: unknown = JSON.parse(text);
    return facts.base64
      ? encodeStored(reviveBase64(value))
      : JSON.stringify(value);
  } catch (error) {
    throw new AppError(
      ErrorCode.InvalidMessage,
      `input ${index} cannot be stored: ${(error as Error).message}`,
    );
  }
}

/**
 * Splits a `POST /api/jobs` body: every member but `inputs` parsed, the inputs scanned
 * and kept as text. A body that is not JSON gets JSON.parse's own message.
 */
export function scanSubmitBody(text: string): ScannedSubmit {
  const scanner = new JsonScanner();
  scanner.reset(text);
  try {
    const body: Record<string, unknown> = {};
    let inputs: EncodedValue[] | undefined;
    // The inputs are scanned once, as they are stored.
    const take = (key: string, start: number): number | undefined => {
      if (key !== 'inputs' || text.charCodeAt(start) !== OPEN_BRACKET)
        return undefined;
      const elements = storedElements(scanner, start);
      inputs = elements.stored;
      return elements.end;
    };
    let inputsArray = false;
    for (const { key, start, end } of objectMembers(scanner, take)) {
      if (key === 'inputs')
        inputsArray = text.charCodeAt(start) === OPEN_BRACKET;
      if (key === 'inputs' && inputsArray) delete body.inputs;
      else {
        // Last one wins, as in JSON.parse; `__proto__` stays an own member.
        Object.defineProperty(body, key, {
          value: JSON.parse(text.slice(start, end)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    // A last `inputs` that is no array is left to validation.
    if (!inputsArray) inputs = undefined;
    return { body, inputs };
  } catch (error) {
    if (error instanceof JsonScanError) throw notJson(text, error);
    throw error;
  }
}

/**
 * The elements of the array at `text[at]` as stored values, in one pass: each sliced
 * and turned into its stored form as it is scanned (no element objects in between).
 */
function storedElements(
  scanner: JsonScanner,
  at: number,
): { stored: EncodedValue[]; end: number } {
  const { text } = scanner;
  const stored: EncodedValue[] = [];
  let i = scanner.skip(at + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return { stored, end: i + 1 };
  for (;;) {
    scanner.base64 = false;
    scanner.spaced = false;
    const end = scanner.value(i, 1);
    stored.push(storedInput(text.slice(i, end), scanner, stored.length));
    i = scanner.skip(end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACKET) return { stored, end: i + 1 };
    if (c !== COMMA) throw new JsonScanError(`expected "," or "]" at ${i}`);
    i = scanner.skip(i + 1);
  }
}

/** The error JSON.parse gives for `text` (a clearer message than the scanner's). */
function notJson(text: string, fallback: Error): AppError {
  let message = fallback.message;
  try {
    JSON.parse(text);
  } catch (error) {
    message = (error as Error).message;
  }
  return new AppError(
    ErrorCode.InvalidMessage,
    `body is not valid JSON: ${message}`,
  );
}

/** One input per non-blank line, as stored values; a bad line refuses the whole body. */
export function scanNdjsonInputs(text: string): EncodedValue[] {
  const inputs: EncodedValue[] = [];
  scanNdjsonLines(text, inputs, 0);
  return inputs;
}

/**
 * The lines of `text` (a run of whole lines of a body, the first being line `line + 1`)
 * added to `inputs`; returns the number of the last line read. A bad line throws.
 */
export function scanNdjsonLines(
  text: string,
  inputs: EncodedValue[],
  first: number,
): number {
  const body = new JsonScanner();
  body.reset(text);
  const scanner = new JsonScanner();
  let line = first;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line++;
    const plain = plainLine(body, start, end);
    if (plain !== undefined) {
      inputs.push(plain);
      start = end + 1;
      continue;
    }
    const raw = text.slice(start, end);
    start = end + 1;
    const trimmed = raw.trim();
    // Blank: skipped before a scan, whose error would cost a stack trace.
    if (trimmed === '') continue;
    const scanned = scanJson(trimmed, scanner);
    if (scanned.ok) {
      inputs.push(storedInput(trimmed, scanned, inputs.length));
      continue;
    }
    let reason = scanned.error;
    try {
      JSON.parse(trimmed);
    } catch (error) {
      reason = (error as Error).message;
    }
    throw new AppError(
      ErrorCode.InvalidMessage,
      `line ${line} is not JSON (${reason}); nothing was appended`,
    );
  }
  return line;
}

/**
 * The line text[start..end) when it is one compact JSON value, as it is stored, with
 * nothing around it and no `$base64` key (the lines a client writes): scanned in place,
 * with no string but the stored one. Undefined for any other line (blank, spaced, with
 * bytes, or not JSON), which the general path reads. A value that does not end within
 * its line (an array left open, say) ends past it: the general path then refuses it.
 */
function plainLine(
  scanner: JsonScanner,
  start: number,
  end: number,
): string | undefined {
  // Blank, or space first: the general path (a failed scan's error costs a stack trace).
  if (start === end || isJsonSpace(scanner.text.charCodeAt(start)))
    return undefined;
  scanner.base64 = false;
  scanner.spaced = false;
  let stop: number;
  try {
    stop = scanner.value(start);
  } catch {
    return undefined;
  }
  if (stop !== end || scanner.base64 || scanner.spaced) return undefined;
  return scanner.text.slice(start, end);
}

const isJsonSpace = (c: number): boolean =>
  c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
