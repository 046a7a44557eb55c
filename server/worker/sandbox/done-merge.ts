/**
 * Merges the outcomes the child's threads report within one event-loop turn into one
 * `done` message of successes (a column frame, columns.ts) and at most one of failures
 * and skipped leases. Every frame costs both processes a read, a decode and a pass
 * through the parent's checks, whatever its size; several threads finishing batches
 * close together thus cost one frame instead of several. Nothing waits longer than
 * the turn it arrived in. Ids and busy times (and outputs while all are numbers) are
 * written straight into columns of doubles, the frame's own layout: no array per column
 * to grow, nor a pass to check that it holds numbers only.
 */
import { JsonText } from '../../../shared/json-text.js';
import type { Lease, TaskFailure } from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import type { FromChild } from './messages.js';

/** Merged successes leave early past this many leases or characters of text. */
const MAX_MERGED_LEASES = 10_000;
const MAX_MERGED_TEXT_CHARS = 8 * 1024 * 1024;

/** A growing column of doubles. */
class Doubles {
  values = new Float64Array(1_024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** A copy of what was pushed (the frame copies it again: keep it small). */
  take(): Float64Array {
    const out = this.values.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

export class DoneMerger {
  #ids = new Doubles();
  #busyMs = new Doubles();
  /** Outputs while every one is a number; else null and `#outputs` holds them. */
  #numbers: Doubles | null = new Doubles();
  #outputs: unknown[] = [];
  /** Places of output texts (strings to splice, checked by the parent). */
  #texts: number[] | undefined;
  #textChars = 0;
  #failures: TaskFailure[] = [];
  #skipped: Lease[] = [];

  get empty(): boolean {
    return (
      this.#ids.length === 0 &&
      this.#failures.length === 0 &&
      this.#skipped.length === 0
    );
  }

  /** Whether the merged successes are large enough to leave now. */
  get full(): boolean {
    return (
      this.#ids.length >= MAX_MERGED_LEASES ||
      this.#textChars >= MAX_MERGED_TEXT_CHARS
    );
  }

  add(outcomes: Outcomes): void {
    const { leases, outputs, failures, skipped, busyMs } = outcomes;
    for (let i = 0; i < leases.length; i++) {
      this.#ids.push(leases[i] as Lease);
      // Unmeasured reads as 0 at the parent either way.
      this.#busyMs.push(busyMs?.[i] ?? 0);
      const output = outputs[i];
      if (typeof output === 'number' && this.#numbers !== null)
        this.#numbers.push(output);
      else this.#addOutput(output);
    }
    for (const failure of failures) this.#failures.push(failure);
    if (skipped) for (const lease of skipped) this.#skipped.push(lease);
  }

  #addOutput(output: unknown): void {
    if (this.#numbers !== null) {
      // The first output that is not a number: the column becomes a list.
      this.#outputs = Array.from(this.#numbers.take());
      this.#numbers = null;
    }
    if (output instanceof JsonText) {
      (this.#texts ??= []).push(this.#outputs.length);
      this.#outputs.push(output.json);
      this.#textChars += output.json.length;
    } else {
      if (typeof output === 'string') this.#textChars += output.length;
      this.#outputs.push(output);
    }
  }

  /** The merged messages (successes first), emptying the merger. */
  take(): FromChild[] {
    const out: FromChild[] = [];
    if (this.#ids.length > 0)
      out.push({
        t: 'done',
        leases: this.#ids.take(),
        outputs: this.#numbers ? this.#numbers.take() : this.#outputs,
        texts: this.#texts,
        failures: [],
        skipped: undefined,
        busyMs: this.#busyMs.take(),
      });
    if (this.#failures.length > 0 || this.#skipped.length > 0)
      out.push({
        t: 'done',
        leases: [],
        outputs: [],
        failures: this.#failures,
        skipped: this.#skipped.length > 0 ? this.#skipped : undefined,
        busyMs: undefined,
      });
    this.#numbers ??= new Doubles();
    this.#outputs = [];
    this.#texts = undefined;
    this.#textChars = 0;
    this.#failures = [];
    this.#skipped = [];
    return out;
  }
}
