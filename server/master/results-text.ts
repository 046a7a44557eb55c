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

/** The frame as a valid `results` message with its outputs as text, or undefined. */
export function scanResultsFrame(text: string): ScannedResults | undefined {
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
