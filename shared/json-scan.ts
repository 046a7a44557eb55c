/**
 * A JSON syntax scanner: checks text against the JSON grammar (the one JSON.parse
 * accepts) without building any object, so that the master can store and forward a
 * record as the text it came in. It bounds the nesting depth, notes whether any object
 * has a `$base64` key (bytes over HTTP, which must be decoded) and whether the text is
 * compact (no whitespace between tokens), and reports where each value ends so that
 * callers can slice the elements of an array out of a bigger text.
 */
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
import { FLAT_ARRAY, FLAT_OBJECT } from './json-flat.js';

/** What a scan found besides validity. */
export interface ScanFacts {
  /** Some object has the key `$base64` (after unescaping). */
  base64: boolean;
  /** Whitespace appears between tokens (the text is not as JSON.stringify writes it). */
  spaced: boolean;
}

export type ScanResult =
  ({ ok: true } & ScanFacts) | { ok: false; error: string };

/** Deepest nesting of arrays and objects accepted (as the stored-value revivers allow). */
export const MAX_JSON_DEPTH = 256;

class ScanError extends Error {}

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Characters a JSON string holds as they are (no quote, backslash or control). */
// eslint-disable-next-line no-control-regex -- control characters are what it excludes
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
/** Length up to which a string is scanned char by char (a regexp call costs more). */
const SHORT_STRING = 16;

/** Values skipped after a failed flat match; the depths that keep such counts (x2 kinds). */
const FLAT_SKIP = 32;
const FLAT_SLOTS = 16;

const isSpace = (c: number): boolean =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isHex = (c: number): boolean =>
  (c >= ZERO && c <= NINE) ||
  (c >= 0x41 && c <= 0x46) ||
  (c >= 0x61 && c <= 0x66);

/**
 * Scans JSON values in `text`. One scanner is reusable; its facts accumulate until
 * `reset()`.
 */
export class JsonScanner {
  text = '';
  base64 = false;
  spaced = false;
  readonly #maxDepth: number;
  /** Flat matches to skip, by kind and depth (see {@link JsonScanner.#flat}). */
  readonly #skipFlat = new Uint8Array(FLAT_SLOTS);

  constructor(maxDepth = MAX_JSON_DEPTH) {
    this.#maxDepth = maxDepth;
  }

  reset(text: string): void {
    this.text = text;
    this.base64 = false;
    this.spaced = false;
  }

  /** Index of the first non-whitespace character at or after `at`. */
  skip(at: number): number {
    const { text } = this;
    let i = at;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i !== at) this.spaced = true;
    return i;
  }

  /** Scans one value starting exactly at `at`; returns the index just past it. Throws. */
  value(at: number, depth = 0): number {
    const c = this.text.charCodeAt(at);
    if (c === QUOTE) return this.#string(at);
    if (c === OPEN_BRACE)
      return this.#flat(FLAT_OBJECT, at, depth) ?? this.#object(at, depth + 1);
    if (c === OPEN_BRACKET)
      return this.#flat(FLAT_ARRAY, at, depth) ?? this.#array(at, depth + 1);
    if (c === MINUS || isDigit(c)) return this.#number(at);
    if (c === 0x74) return this.#literal(at, 'true');
    if (c === 0x66) return this.#literal(at, 'false');
    if (c === 0x6e) return this.#literal(at, 'null');
    throw this.#fail(at, 'a value');
  }

  /**
   * The end of a flat object or array at `at` (one level deeper), or undefined. A value
   * that is not flat costs a failed match before the scan: after one, the next
   * {@link FLAT_SKIP} values of the same kind and depth skip the match (values side by
   * side are mostly alike, e.g. nested records), so that nesting costs little more.
   */
  #flat(pattern: RegExp, at: number, depth: number): number | undefined {
    if (depth >= this.#maxDepth) return undefined;
    const slot = depth * 2 + (pattern === FLAT_ARRAY ? 1 : 0);
    const skip = this.#skipFlat;
    if (slot < skip.length && skip[slot]! > 0) {
      skip[slot]!--;
      return undefined;
    }
    pattern.lastIndex = at;
    if (pattern.test(this.text)) return pattern.lastIndex;
    if (slot < skip.length) skip[slot] = FLAT_SKIP;
    return undefined;
  }

  #fail(at: number, expected: string): ScanError {
    return new ScanError(
      at >= this.text.length
        ? `unexpected end of JSON, expected ${expected}`
        : `unexpected character at position ${at}, expected ${expected}`,
    );
  }

  #literal(at: number, word: string): number {
    if (!this.text.startsWith(word, at)) throw this.#fail(at, word);
    return at + word.length;
  }

  #number(at: number): number {
    const { text } = this;
    let i = at;
    if (text.charCodeAt(i) === MINUS) i++;
    const first = text.charCodeAt(i);
    if (first === ZERO) i++;
    else if (isDigit(first)) {
      do i++;
      while (isDigit(text.charCodeAt(i)));
    } else throw this.#fail(i, 'a digit');
    if (text.charCodeAt(i) === DOT) {
      i++;
      if (!isDigit(text.charCodeAt(i))) throw this.#fail(i, 'a digit');
      do i++;
      while (isDigit(text.charCodeAt(i)));
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === PLUS || sign === MINUS) i++;
      if (!isDigit(text.charCodeAt(i))) throw this.#fail(i, 'a digit');
      do i++;
      while (isDigit(text.charCodeAt(i)));
    }
    return i;
  }

  /** Returns the index past the closing quote. */
  #string(at: number): number {
    const { text } = this;
    const n = text.length;
    let i = at + 1;
    // Short strings (keys) char by char; past SHORT_STRING, runs of plain characters
    // are skipped by a regular expression (native code: records are mostly text).
    let plainFrom = i + SHORT_STRING;
    while (i < n) {
      if (i >= plainFrom) {
        PLAIN_RUN.lastIndex = i;
        PLAIN_RUN.test(text);
        i = PLAIN_RUN.lastIndex;
        plainFrom = n;
        if (i >= n) break;
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) return i + 1;
      if (c < 0x20) throw this.#fail(i, 'no control character in a string');
      if (c === BACKSLASH) {
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          for (let k = 2; k < 6; k++)
            if (!isHex(text.charCodeAt(i + k)))
              throw this.#fail(i + k, 'a hex digit');
          i += 6;
          plainFrom = i;
          continue;
        }
        // " \ / b f n r t
        if (
          e !== QUOTE &&
          e !== BACKSLASH &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        )
          throw this.#fail(i + 1, 'an escape');
        i += 2;
        plainFrom = i;
        continue;
      }
      i++;
    }
    throw this.#fail(n, 'a closing quote');
  }

  #array(at: number, depth: number): number {
    if (depth > this.#maxDepth) throw new ScanError('nested too deeply');
    let i = this.skip(at + 1);
    if (this.text.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.skip(this.value(i, depth));
      const c = this.text.charCodeAt(i);
      if (c === CLOSE_BRACKET) return i + 1;
      if (c !== COMMA) throw this.#fail(i, '"," or "]"');
      i = this.skip(i + 1);
    }
  }

  #object(at: number, depth: number): number {
    if (depth > this.#maxDepth) throw new ScanError('nested too deeply');
    const { text } = this;
    let i = this.skip(at + 1);
    if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) throw this.#fail(i, 'a key');
      const keyEnd = this.#string(i);
      if (!this.base64 && isBase64Key(text, i, keyEnd)) this.base64 = true;
      i = this.skip(keyEnd);
      if (text.charCodeAt(i) !== COLON) throw this.#fail(i, '":"');
      i = this.skip(this.value(this.skip(i + 1), depth));
      const c = text.charCodeAt(i);
      if (c === CLOSE_BRACE) return i + 1;
      if (c !== COMMA) throw this.#fail(i, '"," or "}"');
      i = this.skip(i + 1);
    }
  }
}

/** The key text[start..end) (quotes included) means `$base64`, escaped or not. */
function isBase64Key(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 9) return text.startsWith('"$base64"', start);
  // An escaped spelling is longer; it is rare, so JSON.parse decides it.
  if (length < 9) return false;
  const escape = text.indexOf('\\', start);
  if (escape === -1 || escape >= end) return false;
  return JSON.parse(text.slice(start, end)) === '$base64';
}

/** Checks that `text` is exactly one JSON value (whitespace around it allowed). */
export function scanJson(
  text: string,
  scanner: JsonScanner = new JsonScanner(),
): ScanResult {
  scanner.reset(text);
  try {
    const start = scanner.skip(0);
    const end = scanner.value(start);
    const after = scanner.skip(end);
    if (after !== text.length)
      return { ok: false, error: `unexpected text after JSON at ${after}` };
    return {
      ok: true,
      base64: scanner.base64,
      spaced: start !== 0 || end !== text.length ? true : scanner.spaced,
    };
  } catch (error) {
    if (error instanceof ScanError || error instanceof RangeError)
      return { ok: false, error: error.message };
    throw error;
  }
}

/** One element of an array sliced out of a text, with its own facts. */
export interface SlicedValue extends ScanFacts {
  text: string;
}

/**
 * The elements of the array at `text[at]`, each as its own text, or throws
 * JsonScanError. `depth` is the nesting depth of the array itself.
 */
export function sliceArray(
  scanner: JsonScanner,
  at: number,
  depth = 1,
): { elements: SlicedValue[]; end: number } {
  const { text } = scanner;
  if (text.charCodeAt(at) !== OPEN_BRACKET)
    throw new ScanError(`expected an array at position ${at}`);
  const elements: SlicedValue[] = [];
  let i = scanner.skip(at + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return { elements, end: i + 1 };
  for (;;) {
    scanner.base64 = false;
    scanner.spaced = false;
    const end = scanner.value(i, depth);
    elements.push({
      text: text.slice(i, end),
      base64: scanner.base64,
      spaced: scanner.spaced,
    });
    i = scanner.skip(end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACKET) return { elements, end: i + 1 };
    if (c !== COMMA) throw new ScanError(`expected "," or "]" at ${i}`);
    i = scanner.skip(i + 1);
  }
}

/**
 * The elements of the array at `text[at]` as compact texts: each as it is, or parsed
 * and written again if it has whitespace between its tokens; with the index just past
 * the array. `depth` is the nesting depth of the array itself. Throws JsonScanError.
 */
export function compactElements(
  scanner: JsonScanner,
  at: number,
  depth = 1,
): { texts: string[]; end: number } {
  const { text } = scanner;
  if (text.charCodeAt(at) !== OPEN_BRACKET)
    throw new ScanError(`expected an array at position ${at}`);
  const texts: string[] = [];
  let i = scanner.skip(at + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return { texts, end: i + 1 };
  for (;;) {
    scanner.spaced = false;
    const end = scanner.value(i, depth);
    const slice = text.slice(i, end);
    texts.push(scanner.spaced ? JSON.stringify(JSON.parse(slice)) : slice);
    i = scanner.skip(end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACKET) return { texts, end: i + 1 };
    if (c !== COMMA) throw new ScanError(`expected "," or "]" at ${i}`);
    i = scanner.skip(i + 1);
  }
}

/**
 * The members of the object that is the whole of `text`: each key (parsed) with where
 * its value starts and ends, in order. Throws JsonScanError on anything else. `take`,
 * if given, may scan a member's value itself (returning where it ends), so that a
 * value the caller walks anyway is not scanned twice.
 */
export function objectMembers(
  scanner: JsonScanner,
  take?: (key: string, start: number) => number | undefined,
): { key: string; start: number; end: number }[] {
  const { text } = scanner;
  let i = scanner.skip(0);
  if (text.charCodeAt(i) !== OPEN_BRACE)
    throw new ScanError('expected a JSON object');
  const members: { key: string; start: number; end: number }[] = [];
  i = scanner.skip(i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) i++;
  else {
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE)
        throw new ScanError(`expected a key at ${i}`);
      const keyEnd = scanner.value(i);
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      i = scanner.skip(keyEnd);
      if (text.charCodeAt(i) !== COLON)
        throw new ScanError(`expected ":" at ${i}`);
      const start = scanner.skip(i + 1);
      const end = take?.(key, start) ?? scanner.value(start, 1);
      members.push({ key, start, end });
      i = scanner.skip(end);
      const c = text.charCodeAt(i);
      if (c === CLOSE_BRACE) {
        i++;
        break;
      }
      if (c !== COMMA) throw new ScanError(`expected "," or "}" at ${i}`);
      i = scanner.skip(i + 1);
    }
  }
  if (scanner.skip(i) !== text.length)
    throw new ScanError(`unexpected text after JSON at ${i}`);
  return members;
}

export { ScanError as JsonScanError };
