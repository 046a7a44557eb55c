/**
 * How a task ended, checked and bounded, and the outcomes a thread gathers before it
 * posts them in one message (tiny tasks would cost one message each otherwise).
 */
import { outputText } from '../json-text.js';
import type { Lease } from '../protocol.js';
import { Status, type FromThread, type ThreadOutcomes } from './messages.js';

/** Turns anything thrown into a bounded message. */
export function errorMessage(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = error.message || error.name;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.slice(0, 4_000);
}

/** Rejects outputs that cannot cross the wire as JSON or bytes. */
export function checkOutput(output: unknown): string | null {
  switch (typeof output) {
    case 'number':
      return Number.isFinite(output)
        ? null
        : `output ${output} is not a JSON number`;
    case 'string':
    case 'boolean':
      return null;
    case 'undefined':
      return 'the task returned undefined; return a JSON value or a Uint8Array';
    case 'bigint':
    case 'function':
    case 'symbol':
      return `the task returned a ${typeof output}; return a JSON value or a Uint8Array`;
    case 'object':
      return null;
  }
}

export interface Outcome {
  status: Status;
  value: unknown;
}

export const SKIPPED: Outcome = { status: Status.skipped, value: null };

/** The outcome of a task that returned `output` (already settled, not a promise). */
export function outcomeOf(aborted: boolean, output: unknown): Outcome {
  if (aborted) return SKIPPED;
  const problem = checkOutput(output);
  return problem ? { status: Status.error, value: problem } : sendable(output);
}

/**
 * A checked output as it leaves the thread: a record as its JSON text (one string to
 * clone, spliced into the results frame as it is), anything else as it is.
 */
export function sendable(output: unknown): Outcome {
  if (output === null || typeof output !== 'object')
    return { status: Status.ok, value: output };
  try {
    const text = outputText(output);
    return text === undefined
      ? { status: Status.ok, value: output }
      : { status: Status.json, value: text };
  } catch (error) {
    return {
      status: Status.error,
      value: `the output cannot be sent as JSON: ${errorMessage(error)}`,
    };
  }
}

/** The outcome of a task that threw `error`. */
export const failureOf = (aborted: boolean, error: unknown): Outcome =>
  aborted ? SKIPPED : { status: Status.error, value: errorMessage(error) };

/** Outcomes recorded and not posted yet, in the columns of one message. */
export class OutcomeBuffer {
  #out: ThreadOutcomes = OutcomeBuffer.#fresh();
  /** When the last message went out. */
  lastPostAt = 0;
  readonly #post: (message: FromThread) => void;

  constructor(post: (message: FromThread) => void) {
    this.#post = post;
  }

  static #fresh(): ThreadOutcomes {
    return { type: 'outcomes', leases: [], status: [], values: [], busy: [] };
  }

  record(lease: Lease, status: Status, value: unknown): void {
    const out = this.#out;
    out.leases.push(lease);
    out.status.push(status);
    out.values.push(value);
  }

  /** The busy time of the task recorded last (one call follows each `record`). */
  busy(ms: number): void {
    // Microseconds are plenty, and keep the wire's numbers short.
    this.#out.busy?.push(Math.max(0, Math.round(ms * 1000) / 1000));
  }

  /** Posts what is recorded, if anything. */
  post(now: number): void {
    if (this.#out.leases.length === 0) return;
    this.#post(this.#out);
    this.#out = OutcomeBuffer.#fresh();
    this.lastPostAt = now;
  }
}
