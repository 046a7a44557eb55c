/**
 * Flat JSON values matched by one regular expression: an object or array of strings
 * without escapes, numbers and literals, written without whitespace (a record as
 * JSON.stringify writes it). The match runs in the regex engine's compiled code where
 * a scan walks the text a char at a time in JavaScript. Each accepts only valid JSON;
 * anything else (nesting, an escape, a space, a `$base64` key, more than
 * {@link FLAT_MAX_ELEMENTS} elements) fails the match, and the caller's scan decides.
 */

/**
 * Most elements one match takes. Unbounded, a repeated group keeps a backtrack entry
 * per element, and a flat array of millions of numbers overflows the engine's stack
 * ("Maximum call stack size exceeded"): a valid value refused.
 */
export const FLAT_MAX_ELEMENTS = 256;

const STRING = String.raw`"[^"\\\u0000-\u001f]*"`;
const KEY = String.raw`"(?!\$base64")[^"\\\u0000-\u001f]*"`;
const NUMBER = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const VALUE = `(?:${STRING}|${NUMBER}|true|false|null)`;
const MEMBER = `${KEY}:${VALUE}`;
const MORE = `{0,${FLAT_MAX_ELEMENTS - 1}}`;

/** A flat object, sticky: matched at `lastIndex`. */
export const FLAT_OBJECT = new RegExp(
  String.raw`\{(?:${MEMBER}(?:,${MEMBER})${MORE})?\}`,
  'y',
);
/** A flat array, sticky: matched at `lastIndex`. */
export const FLAT_ARRAY = new RegExp(
  String.raw`\[(?:${VALUE}(?:,${VALUE})${MORE})?\]`,
  'y',
);
