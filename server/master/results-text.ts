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
    for (const { key, start, end } of objectMembers(scanner)) {
      if (key === 'outputs') {
        if (text.charCodeAt(start) !== 0x5b) return undefined;
        outputs = compactElements(scanner, start);
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
