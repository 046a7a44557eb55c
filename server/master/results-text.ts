/**
 * A text `results` frame read without parsing its outputs: the frame is scanned, its
 * other members parsed, and each output kept as the slice of the frame the worker sent,
 * which is what the store keeps (no parse and stringify per result). An output written
 * with whitespace between its tokens is written again compactly, so that stored text
 * fits an NDJSON line and equal outputs of replicas compare equal.
 */
import {
  JsonScanner,
  objectMembers,
  compactElements,
} from '../../shared/json-scan.js';
import { isResultsMessage, type Results } from '../../shared/protocol.js';

export interface ScannedResults {
  message: Results;
  /** `message.outputs` as their JSON texts. */
  outputs: string[];
}

/**
 * Frames up to this many characters are parsed whole (one task's results at a time: the
 * round trip's hot path, where the scan cost twice the parse). A value nested deeper than
 * half this cannot fit, so none is deeper than the scan allows (see the depth test).
 */
const SMALL_FRAME = 256;

/** The frame as a valid `results` message with its outputs as text, or undefined. */
export function scanResultsFrame(text: string): ScannedResults | undefined {
  if (text.length <= SMALL_FRAME) {
    const parsed = parsedSmallFrame(text);
    if (parsed) return parsed;
  }
  const scanner = new JsonScanner();
  scanner.reset(text);
  try {
    const message: Record<string, unknown> = {};
    let outputs: string[] | undefined;
    // The outputs are scanned once, as they are sliced: at the depth the frame's own
    // scan would give them (the array is a member of the frame's object).
    const take = (key: string, start: number): number | undefined => {
      if (key !== 'outputs' || text.charCodeAt(start) !== 0x5b)
        return undefined;
      const elements = compactElements(scanner, start, 2);
      outputs = elements.texts;
      return elements.end;
    };
    for (const { key, start, end } of objectMembers(scanner, take)) {
      if (key === 'outputs') {
        // Not an array: the full decoder says what is wrong. Repeated: the last wins.
        if (text.charCodeAt(start) !== 0x5b) return undefined;
        message.outputs = outputs;
      } else if (key === '__proto__') {
        return undefined;
      } else {
        message[key] = JSON.parse(text.slice(start, end));
      }
    }
    if (
      message.type !== 'results' ||
      outputs === undefined ||
      !isResultsMessage(message)
    )
      return undefined;
    return { message: message as Results, outputs };
  } catch {
    // Not JSON, or not a results frame: the full decoder gives the error.
    return undefined;
  }
}

/**
 * A small frame parsed whole, its outputs written again as JSON text; undefined (the
 * scan decides) unless those texts are exactly what the worker sent, as the scan keeps
 * them: a frame written by JSON.stringify, as every Node and browser worker writes it.
 */
function parsedSmallFrame(text: string): ScannedResults | undefined {
  // JSON.parse makes "__proto__" an own member; the scan leaves such a frame to the
  // full decoder, and so does this.
  if (text.includes('"__proto__"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return undefined;
  const message = parsed as Record<string, unknown>;
  if (!isResultsMessage(message)) return undefined;
  const values = message.outputs as unknown[];
  const outputs = new Array<string>(values.length);
  let joined = '';
  for (let k = 0; k < values.length; k++) {
    const output = JSON.stringify(values[k]);
    outputs[k] = output;
    joined += k === 0 ? output : `,${output}`;
  }
  if (!text.includes(`"outputs":[${joined}]`)) return undefined;
  message.outputs = outputs;
  return { message: message as Results, outputs };
}
