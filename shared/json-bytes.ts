/**
 * A walk over JSON in its UTF-8 bytes, for the decoders that cut big texts into runs
 * before decoding them (the worker's `tasks` frames, the master's request bodies). It
 * finds where strings and values end; it checks nothing else: what it cuts out is
 * decoded and scanned afterwards. JSON's structural characters and quotes are ASCII,
 * so they never stand inside a multi-byte character.
 */
import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COMMA,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from './json-chars.js';

/** Thrown by a walk on anything it does not expect (its caller falls back). */
export class Unexpected extends Error {}

export const isSpace = (c: number | undefined): boolean =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

const { indexOf } = Uint8Array.prototype;

export class JsonByteWalk<B extends Uint8Array = Uint8Array> {
  readonly b: B;

  constructor(b: B) {
    this.b = b;
  }

  /** Index of the first non-space byte from `at`. */
  skip(at: number): number {
    let i = at;
    while (isSpace(this.b[i])) i++;
    return i;
  }

  /** Index past the string opening at `at`. */
  stringEnd(at: number): number {
    const { b } = this;
    // The typed array's own search: no call into C++ per string, unlike Buffer's.
    let i = indexOf.call(b, QUOTE, at + 1);
    for (;;) {
      if (i === -1) throw new Unexpected();
      let slashes = 0;
      while (b[i - 1 - slashes] === BACKSLASH) slashes++;
      if (slashes % 2 === 0) return i + 1;
      i = indexOf.call(b, QUOTE, i + 1);
    }
  }

  /** Where the value at `at` ends (at the `,`, `]` or `}` after it). */
  valueEnd(at: number): number {
    const { b } = this;
    let depth = 0;
    for (let i = at; i < b.length; i++) {
      const c = b[i];
      if (c === QUOTE) i = this.stringEnd(i) - 1;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) return i;
        depth--;
      } else if (c === COMMA && depth === 0) return i;
    }
    throw new Unexpected();
  }
}
