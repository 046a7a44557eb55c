/**
 * Text from strangers (worker names, task error messages) ends up in terminals
 * (`colony status`), logs and the dashboard. Control characters there can move the
 * cursor, rewrite earlier lines or hide text (ANSI escapes), and bidi overrides can make
 * text read differently from what it is. They are removed where the text arrives.
 */

/**
 * C0 controls but tab and newline, DEL, C1 controls, the bidi embeddings, overrides and
 * isolates (U+202A-U+202E, U+2066-U+2069), the implicit marks (U+200E, U+200F, U+061C),
 * the line and paragraph separators (U+2028, U+2029) and U+FEFF.
 */
const UNSAFE_MULTILINE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** The same, and tab and newline too: a name is one line. */
const UNSAFE_LINE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Error text: keeps tab and newline (stack traces), strips the rest of the above. */
export function stripControls(text: string): string {
  return text.replace(UNSAFE_MULTILINE, '');
}

/** A one-line label (a worker's name): every control character stripped, trimmed. */
export function stripControlsLine(text: string): string {
  return text.replace(UNSAFE_LINE, '').trim();
}
