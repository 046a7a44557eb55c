/**
 * Merges the outcomes the child's threads report within one event-loop turn into one
 * `done` message of successes (a column frame, columns.ts) and at most one of failures
 * and skipped leases. Every frame costs both processes a read, a decode and a pass
 * through the parent's checks, whatever its size; several threads finishing batches
 * close together thus cost one frame instead of several. Nothing waits longer than
 * the turn it arrived in.
 */
import { JsonText } from '../../../shared/json-text.js';
import type { Lease, TaskFailure } from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import type { FromChild } from './messages.js';

/** Merged successes leave early past this many leases or characters of text. */
const MAX_MERGED_LEASES = 10_000;
const MAX_MERGED_TEXT_CHARS = 8 * 1024 * 1024;

export class DoneMerger {
  #leases: Lease[] = [];
  #outputs: unknown[] = [];
  #busyMs: number[] = [];
  /** Places of output texts (strings to splice, checked by the parent). */
  #texts: number[] | undefined;
  #textChars = 0;
  #failures: TaskFailure[] = [];
  #skipped: Lease[] = [];

  get empty(): boolean {
    return (
      this.#leases.length === 0 &&
      this.#failures.length === 0 &&
      this.#skipped.length === 0
    );
  }

  /** Whether the merged successes are large enough to leave now. */
  get full(): boolean {
    return (
      this.#leases.length >= MAX_MERGED_LEASES ||
      this.#textChars >= MAX_MERGED_TEXT_CHARS
    );
  }

  add(outcomes: Outcomes): void {
    const { leases, outputs, failures, skipped, busyMs } = outcomes;
    for (let i = 0; i < leases.length; i++) {
      this.#leases.push(leases[i] as Lease);
      const output = outputs[i];
      if (output instanceof JsonText) {
        (this.#texts ??= []).push(this.#outputs.length);
        this.#outputs.push(output.json);
        this.#textChars += output.json.length;
      } else {
        if (typeof output === 'string') this.#textChars += output.length;
        this.#outputs.push(output);
      }
      // Unmeasured reads as 0 at the parent either way.
      this.#busyMs.push(busyMs?.[i] ?? 0);
    }
    for (const failure of failures) this.#failures.push(failure);
    if (skipped) for (const lease of skipped) this.#skipped.push(lease);
  }

  /** The merged messages (successes first), emptying the merger. */
  take(): FromChild[] {
    const out: FromChild[] = [];
    if (this.#leases.length > 0)
      out.push({
        t: 'done',
        leases: this.#leases,
        outputs: this.#outputs,
        texts: this.#texts,
        failures: [],
        skipped: undefined,
        busyMs: this.#busyMs,
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
    this.#leases = [];
    this.#outputs = [];
    this.#busyMs = [];
    this.#texts = undefined;
    this.#textChars = 0;
    this.#failures = [];
    this.#skipped = [];
    return out;
  }
}
