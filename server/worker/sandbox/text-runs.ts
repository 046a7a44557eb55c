/**
 * A `done` frame's output texts (records) as one run: the texts joined by `,`, with a
 * column of their lengths. The parent (accept-done.ts) checks each text in place and
 * splices the run into its `results` frame whole: no string per output on its side.
 * The run comes from the untrusted child: lengths and commas are checked here, each
 * text's content by the executor.
 */

/** Output texts joined by `,`, with their lengths: latin1 (every char a byte). */
export const VALUES_RUN_LATIN1 = 6;
/** The same in UTF-16. */
export const VALUES_RUN_UTF16 = 7;

const COMMA = 0x2c;
/** A char that a latin1 byte cannot hold. */
const WIDE_CHAR = /[\u0100-\uffff]/;

export const isRun = (format: number): boolean =>
  format === VALUES_RUN_LATIN1 || format === VALUES_RUN_UTF16;

/** A `done` frame's output texts as one run (every output a text), to encode. */
export class TextList {
  readonly texts: readonly string[];
  constructor(texts: readonly string[]) {
    this.texts = texts;
  }
}

/** Output texts as the child sent them: joined by `,`, with where each ends. */
export class TextsRun {
  readonly text: string;
  readonly ends: Float64Array;
  constructor(text: string, ends: Float64Array) {
    this.text = text;
    this.ends = ends;
  }

  get length(): number {
    return this.ends.length;
  }
}

/** The lengths of `values` if they are all strings (some at least), else null. */
export function stringLengths(values: readonly unknown[]): number[] | null {
  if (values.length === 0) return null;
  const lengths: number[] = [];
  for (const value of values) {
    if (typeof value !== 'string') return null;
    lengths.push(value.length);
  }
  return lengths;
}

/** How a list of texts rides as a run; null if it holds anything but strings. */
export function runPart(list: TextList): {
  format: number;
  column: number[];
  tail: { text: string; encoding: 'latin1' | 'utf16le' };
} | null {
  const lengths = stringLengths(list.texts);
  if (lengths === null) return null;
  const text = list.texts.join(',');
  const wide = WIDE_CHAR.test(text);
  return {
    format: wide ? VALUES_RUN_UTF16 : VALUES_RUN_LATIN1,
    column: lengths,
    tail: { text, encoding: wide ? 'utf16le' : 'latin1' },
  };
}

/**
 * The run of `n` output texts at `end` of `body`, whose lengths are the column
 * `lengths`: each a whole count, a `,` after each but the last, all adding up to the
 * text exactly (else it throws: a malformed frame). The ends are written over the
 * lengths.
 */
export function readRun(
  body: Buffer,
  format: number,
  lengths: Float64Array,
  n: number,
  end: number,
): TextsRun {
  const wide = format === VALUES_RUN_UTF16;
  if (n === 0 || (wide && (body.length - end) % 2 !== 0))
    throw new Error('a columns frame has a torn run of texts');
  const text = body.toString(wide ? 'utf16le' : 'latin1', end);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i] as number;
    const to = at + length;
    const last = i === n - 1;
    if (
      !Number.isInteger(length) ||
      length < 0 ||
      (last ? to !== text.length : text.charCodeAt(to) !== COMMA)
    )
      throw new Error('the text lengths of a columns frame are wrong');
    lengths[i] = to;
    at = to + 1;
  }
  return new TextsRun(text, lengths);
}
