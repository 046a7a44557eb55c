/**
 * The check of a `done` message from the sandboxed child (task code runs there, so it is
 * untrusted): only ids of tasks held are accepted, each once, mapped back to their
 * leases; output texts are scanned before they may be spliced into a frame; busy times
 * are bounded. Anything else is dropped. The message comes either as columns (typed
 * arrays, columns.ts) or as a structured clone of any shape.
 */
import {
  IN_RUN,
  JsonRun,
  JsonText,
  checkedText,
  isCompactJsonAt,
} from '../../../shared/json-text.js';
import { LIMITS, type TaskFailure } from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import type { HeldBatch, HeldBatches, OnDone } from './held.js';
import { TextsRun } from './text-runs.js';

type List = ArrayLike<unknown>;

const isList = (value: unknown): value is List =>
  Array.isArray(value) || value instanceof Float64Array;

/** Outcomes per owner, the last one asked first (a frame holds whole batches in a row). */
class ByOwner {
  readonly map = new Map<OnDone, Outcomes & { busyMs: number[] }>();
  #lastDone: OnDone | null = null;
  #last: (Outcomes & { busyMs: number[] }) | null = null;

  of(onDone: OnDone): Outcomes & { busyMs: number[] } {
    if (onDone === this.#lastDone && this.#last) return this.#last;
    let outcomes = this.map.get(onDone);
    if (!outcomes) {
      outcomes = { leases: [], outputs: [], failures: [], busyMs: [] };
      this.map.set(onDone, outcomes);
    }
    this.#lastDone = onDone;
    this.#last = outcomes;
    return outcomes;
  }
}

/** Takes the outcomes of held tasks out of `message`; returns them per owner. */
export function acceptDone(
  held: HeldBatches,
  message: Record<string, unknown>,
): Map<OnDone, Outcomes> {
  const { leases, failures, skipped, busyMs, texts } = message;
  const owners = new ByOwner();
  const outputs: unknown = message.outputs;
  const run = outputs instanceof TextsRun ? outputs : null;
  if (
    !isList(leases) ||
    !(run !== null || isList(outputs)) ||
    !Array.isArray(failures)
  )
    return owners.map;
  const taken = run ? new RunTaken(run) : null;
  const busy = isList(busyMs) ? busyMs : null;
  const count = Math.min(leases.length, (run ?? (outputs as List)).length);
  const allTexts = texts === 'all';
  const textAt = allTexts ? null : textPlaces(texts, count);
  // Ids come batch after batch: the batch and its owner's outcomes are looked up once
  // per run of ids, not per id.
  let batch: HeldBatch | null = null;
  let outcomes: (Outcomes & { busyMs: number[] }) | null = null;
  for (let i = 0; i < count; i++) {
    const id = leases[i];
    if (typeof id !== 'number') continue;
    if (
      batch === null ||
      batch.left === 0 ||
      !(id >= batch.first && id < batch.end)
    ) {
      batch = held.find(id);
      if (batch === null) continue;
      outcomes = owners.of(batch.onDone);
    }
    const lease = held.release(batch, id);
    if (lease === undefined || outcomes === null) continue;
    let output = taken ? taken.take(i, outcomes) : (outputs as List)[i];
    if (taken) {
      if (output === null) {
        const error = 'the sandbox sent an output that is not JSON text';
        outcomes.failures.push({ lease, error, kind: 'error' });
        continue;
      }
    } else if (allTexts || (textAt !== null && textAt.has(i))) {
      // Task code runs in the child: an output text is scanned before it is spliced.
      output = checkedText(output);
      if (output === null) {
        const error = 'the sandbox sent an output that is not JSON text';
        outcomes.failures.push({ lease, error, kind: 'error' });
        continue;
      }
    }
    outcomes.leases.push(lease);
    outcomes.outputs.push(output);
    const ms = busy === null ? 0 : busy[i];
    // The child is not trusted with more than a plausible number.
    outcomes.busyMs.push(
      typeof ms === 'number' && ms >= 0 && ms <= LIMITS.maxBusyMs ? ms : 0,
    );
  }
  taken?.finish();
  for (const failure of failures as unknown[]) {
    if (failure === null || typeof failure !== 'object') continue;
    const { lease: id, error, kind } = failure as Record<string, unknown>;
    const taken = take(held, id);
    if (!taken) continue;
    const entry: TaskFailure = {
      lease: taken.lease,
      error: String(error).slice(0, LIMITS.maxErrorLength),
      kind: kind === 'crash' ? 'crash' : 'error',
    };
    owners.of(taken.onDone).failures.push(entry);
  }
  if (Array.isArray(skipped))
    for (const id of skipped as unknown[]) {
      const taken = take(held, id);
      if (taken) (owners.of(taken.onDone).skipped ??= []).push(taken.lease);
    }
  return owners.map;
}

/** Releases a held id (from the child: anything), with its lease and owner. */
function take(held: HeldBatches, id: unknown) {
  if (typeof id !== 'number') return null;
  const batch = held.find(id);
  const lease = batch === null ? undefined : held.release(batch, id);
  return batch === null || lease === undefined
    ? null
    : { lease, onDone: batch.onDone };
}

/** The places of output texts a `done` message lists (untrusted: bounded, checked). */
function textPlaces(texts: unknown, count: number): Set<number> | null {
  if (!Array.isArray(texts) || texts.length === 0) return null;
  const places = new Set<number>();
  for (const i of texts.slice(0, count) as unknown[])
    if (typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < count)
      places.add(i);
  return places;
}

/**
 * A run of output texts from the child taken into outcomes: each text is checked in
 * place, and stands as {@link IN_RUN} until the end. If every one of them went, in
 * order, to one owner's outcomes, the run stays whole there (spliced into the results
 * frame as it came); else each place gets its own text.
 */
class RunTaken {
  readonly #run: TextsRun;
  #outputs: unknown[] | null = null;
  #first = -1;
  #whole = true;
  readonly #places: { outputs: unknown[]; at: number; i: number }[] = [];

  constructor(run: TextsRun) {
    this.#run = run;
  }

  /** The placeholder of the run's text `i` for `outcomes`, or null if it is not JSON. */
  take(i: number, outcomes: Outcomes): unknown {
    const { text, ends } = this.#run;
    const from = i === 0 ? 0 : (ends[i - 1] as number) + 1;
    if (!isCompactJsonAt(text, from, ends[i] as number)) {
      this.#whole = false;
      return null;
    }
    const { outputs } = outcomes;
    if (this.#outputs === null) {
      this.#outputs = outputs;
      this.#first = outputs.length;
    } else if (this.#outputs !== outputs || outputs.length !== this.#first + i)
      this.#whole = false;
    this.#places.push({ outputs, at: outputs.length, i });
    return IN_RUN;
  }

  /** Puts the texts in place: the run whole if all of them went, in order. */
  finish(): void {
    const { text, ends } = this.#run;
    if (this.#whole && this.#places.length === ends.length && this.#outputs) {
      this.#outputs[this.#first] = new JsonRun(text, ends);
      return;
    }
    for (const { outputs, at, i } of this.#places) {
      const from = i === 0 ? 0 : (ends[i - 1] as number) + 1;
      outputs[at] = new JsonText(text.slice(from, ends[i] as number));
    }
  }
}
