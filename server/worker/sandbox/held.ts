/**
 * What the worker has handed to its sandboxed child and not heard back about, batch by
 * batch rather than lease by lease: a map entry per task cost more than the rest of
 * the pipe hop. The child never sees the master's leases: each batch's tasks get
 * consecutive ids here (`first`, `first + 1`, ...), and the child reports by id. An id
 * is accepted once, only while its batch holds it, and maps back to its lease through
 * the batch's own lease column: a range check and a byte per task.
 */
import type {
  Lease,
  TaskBatch,
  TaskFailure,
} from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';

export type OnDone = (outcomes: Outcomes) => void;

export interface HeldBatch {
  /** The id of the batch's first task; task `i` is `first + i`. */
  readonly first: number;
  /** One past the id of the last task. */
  readonly end: number;
  readonly leases: readonly Lease[];
  readonly onDone: OnDone;
  /** The child's task thread it went to (its pipe), and its task module. */
  readonly pipe: number;
  readonly module: string;
  /** The batch itself (task `i` is its task `i`), to run again what a dead thread held. */
  readonly batch: TaskBatch | null;
  /** 1 while task `i` is held. */
  readonly open: Uint8Array;
  /** Tasks still held. */
  left: number;
}

export class HeldBatches {
  /** Batches with tasks held, in the order of their ids. */
  #batches: HeldBatch[] = [];
  #next = 1;
  #size = 0;
  /** The batch found last: reports come batch after batch. */
  #last: HeldBatch | null = null;

  /** Tasks held. */
  get size(): number {
    return this.#size;
  }

  /** Tasks held per pipe (the child's task threads). */
  readonly #load: number[] = [];

  /** Tasks held that went through `pipe`. */
  loadOf(pipe: number): number {
    return this.#load[pipe] ?? 0;
  }

  /** Holds a batch's tasks; returns the id of its first one. */
  add(
    leases: readonly Lease[],
    onDone: OnDone,
    pipe = 0,
    source: TaskBatch | null = null,
  ): HeldBatch {
    const n = leases.length;
    const batch: HeldBatch = {
      first: this.#next,
      end: this.#next + n,
      leases,
      onDone,
      pipe,
      module: source?.module ?? '',
      batch: source,
      open: new Uint8Array(n).fill(1),
      left: n,
    };
    this.#next += n;
    this.#size += n;
    this.#load[pipe] = this.loadOf(pipe) + n;
    this.#batches.push(batch);
    return batch;
  }

  /** The batch an id belongs to, if it still holds tasks (the id may be anything). */
  find(id: number): HeldBatch | null {
    const last = this.#last;
    if (last !== null && id >= last.first && id < last.end && last.left > 0)
      return last;
    const batches = this.#batches;
    let lo = 0;
    let hi = batches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const batch = batches[mid] as HeldBatch;
      if (id < batch.first) hi = mid - 1;
      else if (id >= batch.end) lo = mid + 1;
      else return (this.#last = batch);
    }
    return null;
  }

  /** The lease of a held id, still held after this. */
  leaseOf(id: number): Lease | undefined {
    const batch = this.find(id);
    if (batch === null) return undefined;
    const i = id - batch.first;
    return batch.open[i] === 1 ? batch.leases[i] : undefined;
  }

  /**
   * Releases id `id` of `batch` (found with {@link find}): its lease, or undefined if
   * that id is not held (not an integer, or reported already).
   */
  release(batch: HeldBatch, id: number): Lease | undefined {
    const i = id - batch.first;
    // A fraction reads undefined from a typed array: never 1.
    if (batch.open[i] !== 1) return undefined;
    batch.open[i] = 0;
    this.#size--;
    this.#load[batch.pipe] = this.loadOf(batch.pipe) - 1;
    if (--batch.left === 0) this.#drop(batch);
    return batch.leases[i];
  }

  /** Releases these leases (any not held are ignored); returns their ids. */
  cancel(leases: readonly Lease[]): number[] {
    return [...this.cancelByPipe(leases).values()].flat();
  }

  /** Releases these leases (any not held are ignored); returns their ids by pipe. */
  cancelByPipe(leases: readonly Lease[]): Map<number, number[]> {
    const wanted = new Set(leases);
    const ids = new Map<number, number[]>();
    for (const batch of [...this.#batches])
      for (let i = 0; i < batch.leases.length; i++)
        if (batch.open[i] === 1 && wanted.has(batch.leases[i] as Lease)) {
          let list = ids.get(batch.pipe);
          if (!list) ids.set(batch.pipe, (list = []));
          list.push(batch.first + i);
          this.release(batch, batch.first + i);
        }
    return ids;
  }

  /**
   * Releases the held ids in `after` < id <= `upTo` of batches sent through `pipe`
   * (what a task thread read and did not report before it died), with their owners.
   */
  releaseRead(
    pipe: number,
    after: number,
    upTo: number,
  ): { batch: HeldBatch; id: number; lease: Lease }[] {
    const out: { batch: HeldBatch; id: number; lease: Lease }[] = [];
    for (const batch of [...this.#batches]) {
      if (batch.pipe !== pipe || batch.end <= after + 1 || batch.first > upTo)
        continue;
      const from = Math.max(batch.first, Math.floor(after) + 1);
      const to = Math.min(batch.end - 1, upTo);
      for (let id = from; id <= to; id++) {
        const lease = this.release(batch, id);
        if (lease !== undefined) out.push({ batch, id, lease });
      }
    }
    return out;
  }

  /** Releases a whole batch: the leases it still held. */
  releaseBatch(batch: HeldBatch): Lease[] {
    const leases: Lease[] = [];
    for (let i = 0; i < batch.leases.length; i++)
      if (batch.open[i] === 1) leases.push(batch.leases[i] as Lease);
    if (batch.left > 0) {
      batch.open.fill(0);
      this.#size -= batch.left;
      this.#load[batch.pipe] = this.loadOf(batch.pipe) - batch.left;
      batch.left = 0;
      this.#drop(batch);
    }
    return leases;
  }

  /** Releases everything held, as failures of `kind` crash told to each batch's owner. */
  crashAll(error: string): void {
    const byDone = new Map<OnDone, TaskFailure[]>();
    for (const batch of [...this.#batches]) {
      const list = byDone.get(batch.onDone) ?? [];
      for (const lease of this.releaseBatch(batch))
        list.push({ lease, error, kind: 'crash' });
      byDone.set(batch.onDone, list);
    }
    for (const [onDone, failures] of byDone)
      if (failures.length > 0) onDone({ leases: [], outputs: [], failures });
  }

  /** Forgets everything held (no outcome follows). */
  clear(): void {
    for (const batch of this.#batches) {
      batch.open.fill(0);
      batch.left = 0;
    }
    this.#batches = [];
    this.#size = 0;
    this.#load.length = 0;
    this.#last = null;
  }

  #drop(batch: HeldBatch): void {
    // Batches mostly end in the order they came: the first one is the usual case.
    const at = this.#batches[0] === batch ? 0 : this.#batches.indexOf(batch);
    if (at >= 0) this.#batches.splice(at, 1);
    if (this.#last === batch) this.#last = null;
  }
}
