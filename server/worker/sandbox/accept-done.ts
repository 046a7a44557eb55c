/**
 * The check of a `done` message from the sandboxed child (task code runs there, so it is
 * untrusted): only ids of tasks held are accepted, each once, mapped back to their
 * leases; output texts are scanned before they may be spliced into a frame; busy times
 * are bounded. Anything else is dropped. The message comes either as columns (typed
 * arrays, columns.ts) or as a structured clone of any shape.
 */
import { checkedText } from '../../../shared/json-text.js';
import { LIMITS, type TaskFailure } from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import type { HeldBatch, HeldBatches, OnDone } from './held.js';

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
  const { leases, outputs, failures, skipped, busyMs, texts } = message;
  const owners = new ByOwner();
  if (!isList(leases) || !isList(outputs) || !Array.isArray(failures))
    return owners.map;
  const busy = isList(busyMs) ? busyMs : null;
  const count = Math.min(leases.length, outputs.length);
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
    let output = outputs[i];
    if (allTexts || (textAt !== null && textAt.has(i))) {
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
