/**
 * Task outputs kept as the JSON text their thread wrote, so that a record crosses from
 * the task thread to the wire as one string (cheap to clone) and is spliced into the
 * `results` frame as it is: never cloned as an object, never parsed and written again.
 */
import { containsBinary, encodeFrame } from './codec.js';
import { JsonScanner, scanJson } from './json-scan.js';
import type { Results, WorkerMessage } from './protocol.js';

/** An output as JSON text (one JSON value, checked where it came from a thread). */
export class JsonText {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

/**
 * The JSON text of a task's output when it is worth sending as text: an object or
 * array without bytes in it. Undefined for a primitive (cheaper as it is) or a value
 * with a `Uint8Array` (it travels in a binary frame). Throws what JSON.stringify
 * throws (a cycle, a BigInt), or a TypeError for something that writes no JSON.
 */
export function outputText(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || containsBinary(value))
    return undefined;
  const text = JSON.stringify(value) as string | undefined;
  if (typeof text !== 'string')
    throw new TypeError('the output has no JSON form');
  return text;
}

const scanner = new JsonScanner();

/** A JSON string as JSON.stringify writes it (no raw control chars, valid escapes). */
const STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`;
/** A JSON string, number (JSON's grammar exactly), true, false or null. */
const PRIMITIVE = String.raw`(?:${STRING}|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null)`;
/**
 * A compact flat object (members of primitives only), the shape of most records: one
 * match in the regex engine's compiled code costs about a third of a scan by
 * {@link JsonScanner}. Every alternative starts with a char of its own, so a match
 * never backtracks more than a char per quantifier: linear in the text.
 */
const FLAT_OBJECT = new RegExp(
  String.raw`^\{(?:${STRING}:${PRIMITIVE}(?:,${STRING}:${PRIMITIVE})*)?\}$`,
);
/** Longer texts go to the scanner (a regex's backtrack stack is bounded). */
const FLAT_MAX_CHARS = 4_096;

/**
 * `text` as an output if it is exactly one compact JSON value, else null: text from a
 * thread running task code is not spliced into a frame unchecked.
 *
 * The master scans every results frame again, so this scan is not what keeps the master
 * safe; it keeps the volunteer whole. A text that is not one JSON value would make the
 * master refuse the whole frame (every result in it lost; a few such frames and it
 * closes the connection), and a text such as `1],"credit":9,"leases":[7` would splice members of its own into
 * the frame, which the master would read as this worker's word. Texts from a process
 * that runs task code (the sandbox child) are therefore scanned here, once, before they
 * are spliced; the child itself passes its threads' texts on unscanned.
 */
export function checkedText(text: unknown): JsonText | null {
  if (typeof text !== 'string') return null;
  if (text.length <= FLAT_MAX_CHARS && FLAT_OBJECT.test(text))
    return new JsonText(text);
  const scan = scanJson(text, scanner);
  return scan.ok && !scan.spaced ? new JsonText(text) : null;
}

/** The JSON text of one output, whichever form it is in. */
const textOf = (output: unknown): string =>
  output instanceof JsonText
    ? output.json
    : ((JSON.stringify(output) as string | undefined) ?? 'null');

/**
 * Encodes a `results` message whose outputs may be {@link JsonText}s: their text is
 * spliced in. Without any, or with bytes among the outputs, it is `encodeFrame`'s
 * frame (texts parsed back for the binary frame: that case is rare).
 */
export function encodeResults(message: Results): string | Uint8Array {
  const { outputs, ...rest } = message;
  let texts = false;
  for (const output of outputs)
    if (output instanceof JsonText) {
      texts = true;
      break;
    }
  if (!texts) return encodeFrame(message);
  if (outputs.some((o) => !(o instanceof JsonText) && containsBinary(o))) {
    const values = outputs.map((o) =>
      o instanceof JsonText ? (JSON.parse(o.json) as unknown) : o,
    );
    return encodeFrame({ ...message, outputs: values });
  }
  let body = '';
  for (let i = 0; i < outputs.length; i++)
    body += (i === 0 ? '' : ',') + textOf(outputs[i]);
  // The other members as JSON.stringify writes them (`type` among them: never empty).
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"outputs":[${body}]}`;
}

/** The frame of any message a worker sends: `results` through {@link encodeResults}. */
export const encodeMessage = (message: WorkerMessage): string | Uint8Array =>
  message.type === 'results' ? encodeResults(message) : encodeFrame(message);
