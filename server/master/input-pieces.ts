/**
 * Request bodies decoded in pieces. V8 keeps a string over 128 KiB in its large-object
 * space, a fresh memory mapping each time: decoding a body of megabytes into one string
 * touches new pages for every byte (page faults, then a collection to give them back),
 * and every input sliced from it keeps it alive. So a body is cut in its bytes at
 * boundaries no value spans (a line end; a comma between two inputs), each run of at
 * most {@link PIECE_BYTES} decoded on its own and scanned with the string scanner. A
 * body this cannot cut (a shape not expected, or an error to report) takes the
 * whole-string path, which gives the same results and the same messages.
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
} from '../../shared/json-chars.js';
import { JsonByteWalk, Unexpected } from '../../shared/json-bytes.js';
import { JsonScanner } from '../../shared/json-scan.js';
import {
  bodyText,
  scanNdjsonInputs,
  scanNdjsonLines,
  scanSubmitBody,
  storedInput,
  type ScannedSubmit,
} from './input-texts.js';
import type { EncodedValue } from './store/store.js';

/** The most bytes decoded into one string (well under V8's 128 KiB large objects). */
export const PIECE_BYTES = 48 * 1024;

/**
 * Bodies over this are decoded whole: Node copies a latin1 text of over ~1 MB into an
 * external string (malloc'd, outside the V8 heap: no large object, never moved), while
 * pieces are young strings that every input slice keeps alive, so the collector copies
 * all of them. Measured on records: pieces cost more than one string past this size.
 */
export const WHOLE_BYTES = 1024 * 1024;

/** Whether a body of `length` bytes is decoded in pieces. */
const inPieces = (length: number, piece: number): boolean =>
  length > piece && length <= WHOLE_BYTES;

const LINE_FEED = 0x0a;

/** `bytes[start, end)` as text (an ASCII run takes the cheaper latin1 copy). */
const textOf = (bytes: Buffer, start: number, end: number): string =>
  bodyText(bytes.subarray(start, end));

/** An NDJSON append body's inputs (as scanNdjsonInputs of the whole text). */
export function scanNdjsonBytes(
  bytes: Buffer,
  piece = PIECE_BYTES,
): EncodedValue[] {
  if (!inPieces(bytes.length, piece)) return scanNdjsonInputs(bodyText(bytes));
  const inputs: EncodedValue[] = [];
  let line = 0;
  for (let start = 0; start < bytes.length;) {
    let cut = bytes.length;
    if (cut - start > piece) {
      // Whole lines only: a UTF-8 sequence never holds the byte of a line feed.
      const last = bytes.lastIndexOf(LINE_FEED, start + piece - 1);
      if (last >= start) cut = last + 1;
      else {
        // One line longer than a piece is a piece of its own.
        const next = bytes.indexOf(LINE_FEED, start + piece);
        if (next !== -1) cut = next + 1;
      }
    }
    line = scanNdjsonLines(textOf(bytes, start, cut), inputs, line);
    start = cut;
  }
  return inputs;
}

/** A `POST /api/jobs` body split as scanSubmitBody splits its whole text. */
export function scanSubmitBytes(
  bytes: Buffer,
  piece = PIECE_BYTES,
): ScannedSubmit {
  if (inPieces(bytes.length, piece)) {
    try {
      const scanned = piecewiseSubmit(bytes, piece);
      if (scanned) return scanned;
    } catch {
      // Anything wrong is reported by the whole-string path, in its own words.
    }
  }
  return scanSubmitBody(bodyText(bytes));
}

/**
 * The body with its inputs decoded run by run and the rest (its `inputs` emptied)
 * decoded and split as before; undefined when the body is not of the expected shape.
 * Throws on bad JSON (scanSubmitBytes then takes the whole-string path).
 */
export function piecewiseSubmit(
  bytes: Buffer,
  piece: number,
): ScannedSubmit | undefined {
  const walk = new ByteWalk(bytes);
  const array = walk.inputsArray();
  if (array === undefined) return undefined;
  const stored: EncodedValue[] = [];
  const scanner = new JsonScanner();
  walk.elementRuns(array, piece, (start, end) => {
    storedRun(scanner, textOf(bytes, start, end), stored);
  });
  const end = walk.arrayEnd;
  const rest =
    textOf(bytes, 0, array + 1) + textOf(bytes, end - 1, bytes.length);
  const { body, inputs } = scanSubmitBody(rest);
  if (inputs?.length !== 0) return undefined;
  return { body, inputs: stored };
}

/** Adds the elements of `text` (values between commas, spaces allowed) to `stored`. */
function storedRun(
  scanner: JsonScanner,
  text: string,
  stored: EncodedValue[],
): void {
  scanner.reset(text);
  let i = scanner.skip(0);
  for (;;) {
    scanner.base64 = false;
    scanner.spaced = false;
    // Depth 1: the elements of the inputs array, as the whole-string path scans them.
    const end = scanner.value(i, 1);
    stored.push(storedInput(text.slice(i, end), scanner, stored.length));
    i = scanner.skip(end);
    if (i === text.length) return;
    if (text.charCodeAt(i) !== COMMA) throw new Unexpected();
    i = scanner.skip(i + 1);
  }
}

const INPUTS = Buffer.from('"inputs"');

/**
 * Finds boundaries in a JSON body's bytes: strings (with their escapes) and nesting
 * tracked, nothing else checked (the scanner checks each decoded run).
 */
class ByteWalk extends JsonByteWalk<Buffer> {
  /** Index past the `]` of the inputs array, once its runs were walked. */
  arrayEnd = -1;

  /**
   * Where the `[` of the one top-level `"inputs"` array is; undefined if there is
   * none, or more than one `inputs` member, or a key written with escapes.
   */
  inputsArray(): number | undefined {
    const { b } = this;
    let i = this.skip(0);
    if (b[i] !== OPEN_BRACE) return undefined;
    i = this.skip(i + 1);
    let found: number | undefined;
    while (b[i] !== CLOSE_BRACE) {
      if (b[i] !== QUOTE) return undefined;
      const keyEnd = this.stringEnd(i);
      if (b.subarray(i, keyEnd).includes(BACKSLASH)) return undefined;
      const isInputs = b.compare(INPUTS, 0, INPUTS.length, i, keyEnd) === 0;
      const colon = this.skip(keyEnd);
      if (b[colon] !== COLON) return undefined;
      const value = this.skip(colon + 1);
      if (isInputs) {
        if (found !== undefined || b[value] !== OPEN_BRACKET) return undefined;
        found = value;
      }
      const end = this.valueEnd(value);
      i = this.skip(b[end] === COMMA ? end + 1 : end);
      if (b[end] !== COMMA && b[end] !== CLOSE_BRACE) return undefined;
    }
    return found;
  }

  /**
   * Calls `onRun(start, end)` for runs of whole elements of the array at `at`, each
   * of at most `piece` bytes unless one element alone is longer; the commas between
   * runs are left out. Sets {@link arrayEnd}.
   */
  elementRuns(
    at: number,
    piece: number,
    onRun: (start: number, end: number) => void,
  ): void {
    const { b } = this;
    const first = this.skip(at + 1);
    if (b[first] === CLOSE_BRACKET) {
      this.arrayEnd = first + 1;
      return;
    }
    let runStart = at + 1;
    let runEnd = runStart;
    for (let i = runStart; ;) {
      const end = this.valueEnd(i);
      if (end - runStart > piece && runEnd > runStart) {
        onRun(runStart, runEnd);
        runStart = runEnd + 1;
      }
      runEnd = end;
      if (b[end] === CLOSE_BRACKET) break;
      i = end + 1;
    }
    onRun(runStart, runEnd);
    this.arrayEnd = runEnd + 1;
  }
}
