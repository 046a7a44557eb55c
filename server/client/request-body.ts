/**
 * Request bodies of many inputs (a submit's JSON, an append's NDJSON), written in pieces
 * of {@link PIECE_INPUTS} inputs into one buffer kept from one request to the next.
 *
 * Why: a body of 100,000 records is ~15 MB. Written as one string and then copied into
 * a new Buffer, both touched fresh memory for every byte (page faults, then collections
 * to give it back), and checking each input for bytes before writing it cost as much as
 * writing it. Here each piece is one JSON.stringify (a small string), checked for bytes
 * by its text (see {@link pieceText}), and copied into the kept buffer.
 */
import { bytesAsBase64, holdsBytes, toJsonText } from '../base64-json.js';

/** Inputs written per JSON.stringify call. */
const PIECE_INPUTS = 256;

/** The largest buffer kept between requests (a bigger body gets one of its own). */
const KEPT_BYTES = 32 * 1024 * 1024;

let kept: Buffer | undefined;
let lent = false;

/** A body written into a buffer: valid until `release()` (the buffer may be reused). */
export interface BodyBytes {
  bytes: Buffer;
  release(): void;
}

/**
 * JSON.stringify writes a Uint8Array as `{"0":..,"1":..}` (or `{}` when empty) and a
 * Buffer, through its toJSON, as `{"type":"Buffer",...}`: a text with none of these
 * holds no bytes that the `$base64` form would have written differently, so only
 * such a text is walked for bytes (and written again with them as `$base64`).
 */
const mayHoldBytes = (text: string): boolean =>
  text.includes('{"0":') ||
  text.includes('{}') ||
  text.includes('"type":"Buffer"');

/** `inputs` as JSON text, bytes as `{"$base64": ...}` (as toJsonText writes them). */
function pieceText(inputs: readonly unknown[]): string {
  const text = JSON.stringify(inputs);
  if (!mayHoldBytes(text) || !holdsBytes(inputs)) return text;
  return JSON.stringify(inputs, bytesAsBase64);
}

/** Lines of NDJSON for `inputs` (a blank line for an input that writes no JSON). */
function pieceLines(inputs: readonly unknown[]): string {
  const text = jsonLines(inputs);
  if (!mayHoldBytes(text) || !holdsBytes(inputs)) return text;
  return inputs.map((input) => toJsonText(input)).join('\n');
}

/**
 * JSON.stringify of each input, one a line. Records (plain objects) are written with
 * one JSON.stringify of the whole piece, which costs less than one per record
 * (measured on ~140-byte records: 10-40% less CPU), and split where the array
 * separates them: JSON.stringify writes each plain object as `{...}` and puts a ','
 * between two, so every '},{' is a boundary when the text holds no other one (inside a
 * string or a nested object); else one JSON.stringify per input.
 */
function jsonLines(inputs: readonly unknown[]): string {
  if (inputs.length > 1 && inputs.every(isPlainObject)) {
    const inner = JSON.stringify(inputs).slice(1, -1);
    if (occurrences(inner, '},{') === inputs.length - 1)
      return inner.replaceAll('},{', '}\n{');
  }
  return inputs.map((input) => JSON.stringify(input) as string).join('\n');
}

/**
 * Whether JSON.stringify writes `value` as `{...}`: an object of no class (its
 * prototype Object.prototype or null) with no toJSON method.
 */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/** How many times `part` occurs in `text` (one native pass, not a call per match). */
const occurrences = (text: string, part: string): number =>
  (text.length - text.replaceAll(part, '').length) / part.length;

/** Writes strings one after another into a growing buffer (the kept one if free). */
class BodyWriter {
  #buffer: Buffer;
  #size = 0;
  readonly #borrowed: boolean;

  constructor() {
    this.#borrowed = !lent;
    if (this.#borrowed) lent = true;
    this.#buffer = (this.#borrowed ? kept : undefined) ?? Buffer.allocUnsafe(0);
  }

  write(text: string): void {
    // At most 3 UTF-8 bytes per UTF-16 code unit.
    const worst = this.#size + text.length * 3;
    if (worst > this.#buffer.length) {
      const bigger = Buffer.allocUnsafe(
        Math.max(worst, this.#buffer.length * 2, 65_536),
      );
      this.#buffer.copy(bigger, 0, 0, this.#size);
      this.#buffer = bigger;
      if (this.#borrowed && bigger.length <= KEPT_BYTES) kept = bigger;
    }
    this.#size += this.#buffer.write(text, this.#size, 'utf8');
  }

  done(): BodyBytes {
    let released = false;
    return {
      bytes: this.#buffer.subarray(0, this.#size),
      release: () => {
        if (released) return;
        released = true;
        if (this.#borrowed) lent = false;
      },
    };
  }
}

/**
 * The JSON body `{...head, inputs: [...], ...tail}` (members in that order), written
 * as toJsonText would write it.
 */
export function jsonBodyWithInputs(
  head: Record<string, unknown>,
  inputs: readonly unknown[],
  tail: Record<string, unknown>,
): BodyBytes {
  const out = new BodyWriter();
  const headText = toJsonText(head);
  out.write(headText.length > 2 ? `${headText.slice(0, -1)},` : '{');
  out.write('"inputs":[');
  for (let start = 0; start < inputs.length; start += PIECE_INPUTS) {
    const piece = pieceText(inputs.slice(start, start + PIECE_INPUTS));
    out.write(start === 0 ? piece.slice(1, -1) : `,${piece.slice(1, -1)}`);
  }
  const tailText = toJsonText(tail);
  out.write(tailText.length > 2 ? `],${tailText.slice(1)}` : ']}');
  return out.done();
}

/** The NDJSON body of `inputs`: one line each. */
export function ndjsonBody(inputs: readonly unknown[]): BodyBytes {
  const out = new BodyWriter();
  for (let start = 0; start < inputs.length; start += PIECE_INPUTS) {
    if (start > 0) out.write('\n');
    out.write(pieceLines(inputs.slice(start, start + PIECE_INPUTS)));
  }
  return out.done();
}
