/**
 * Task outputs kept as the JSON text their thread wrote, so that a record crosses from
 * the task thread to the wire as one string (cheap to clone) and is spliced into the
 * `results` frame as it is: never cloned as an object, never parsed and written again.
 */
import { containsBinary, encodeFrame } from './codec.js';
import { JsonScanner, scanJson } from './json-scan.js';
import { FLAT_OBJECT } from './json-flat.js';
import type { Results, WorkerMessage } from './protocol.js';

/** An output as JSON text (one JSON value, checked where it came from a thread). */
export class JsonText {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

/**
 * Outputs of tasks in a row as one text `a,b,c`, each element checked (one compact
 * JSON value): spliced into a `results` frame whole, with no string per output. In a
 * column of outputs it stands at its first task's place and {@link IN_RUN} at each
 * following one's.
 */
export class JsonRun {
  readonly json: string;
  /** Where each element ends in `json` (a `,` or the end follows). */
  readonly ends: ArrayLike<number>;
  constructor(json: string, ends: ArrayLike<number>) {
    this.json = json;
    this.ends = ends;
  }

  /** The elements one by one (a run cut in two). */
  texts(): JsonText[] {
    const out: JsonText[] = [];
    let from = 0;
    for (const end of Array.from(this.ends)) {
      out.push(new JsonText(this.json.slice(from, end)));
      from = end + 1;
    }
    return out;
  }
}

/** The place of an output that the {@link JsonRun} before it holds. */
export const IN_RUN: unknown = Object.freeze({ inRun: true });

/**
 * `outputs` with the run that holds place `at` (if any) as one text per output: before
 * a column is cut there.
 */
export function splitRunAt(outputs: unknown[], at: number): void {
  if (outputs[at] !== IN_RUN) return;
  let start = at - 1;
  while (start > 0 && outputs[start] === IN_RUN) start--;
  const run = outputs[start];
  if (run instanceof JsonRun)
    outputs.splice(start, run.ends.length, ...run.texts());
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

/** Whether `text[from, to)` is one flat object (json-flat.ts): most records. */
function flatObjectAt(text: string, from: number, to: number): boolean {
  FLAT_OBJECT.lastIndex = from;
  return FLAT_OBJECT.test(text) && FLAT_OBJECT.lastIndex === to;
}

/** Whether `text[from, to)` is exactly one compact JSON value (see checkedText). */
export function isCompactJsonAt(
  text: string,
  from: number,
  to: number,
): boolean {
  if (flatObjectAt(text, from, to)) return true;
  const scan = scanJson(text.slice(from, to), scanner);
  return scan.ok && !scan.spaced;
}

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
  if (flatObjectAt(text, 0, text.length)) return new JsonText(text);
  const scan = scanJson(text, scanner);
  return scan.ok && !scan.spaced ? new JsonText(text) : null;
}

/** The JSON text of one output, whichever form it is in. */
const textOf = (output: unknown): string =>
  output instanceof JsonText || output instanceof JsonRun
    ? output.json
    : ((JSON.stringify(output) as string | undefined) ?? 'null');

/** Outputs as values: texts parsed back (for a binary frame, rare). */
function outputValues(outputs: readonly unknown[]): unknown[] {
  const values: unknown[] = [];
  for (const o of outputs)
    if (o instanceof JsonText) values.push(JSON.parse(o.json));
    else if (o instanceof JsonRun)
      for (const v of JSON.parse(`[${o.json}]`) as unknown[]) values.push(v);
    else if (o !== IN_RUN) values.push(o);
  return values;
}

/**
 * Encodes a `results` message whose outputs may be {@link JsonText}s: their text is
 * spliced in. Without any, or with bytes among the outputs, it is `encodeFrame`'s
 * frame (texts parsed back for the binary frame: that case is rare).
 */
export function encodeResults(message: Results): string | Uint8Array {
  const { outputs, ...rest } = message;
  let texts = false;
  for (const output of outputs)
    if (
      typeof output === 'object' &&
      (output instanceof JsonText || output instanceof JsonRun)
    ) {
      texts = true;
      break;
    }
  if (!texts) return encodeFrame(message);
  if (
    outputs.some(
      (o) =>
        !(o instanceof JsonText || o instanceof JsonRun || o === IN_RUN) &&
        containsBinary(o),
    )
  )
    return encodeFrame({ ...message, outputs: outputValues(outputs) });
  let body = '';
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    // A run wrote the outputs of the places it holds.
    if (output !== IN_RUN) body += (i === 0 ? '' : ',') + textOf(output);
  }
  // The other members as JSON.stringify writes them (`type` among them: never empty).
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"outputs":[${body}]}`;
}

/** The frame of any message a worker sends: `results` through {@link encodeResults}. */
export const encodeMessage = (message: WorkerMessage): string | Uint8Array =>
  message.type === 'results' ? encodeResults(message) : encodeFrame(message);
