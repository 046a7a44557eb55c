/**
 * The queue that finds expired leases cheaply. Leases (bullmq's locks, fenced by an
 * increasing token) of one lease length expire in the order they were issued, because the
 * scheduler's clock never goes back; so one FIFO per length replaces a heap, and the
 * earliest expiry is the smallest of a handful of FIFO fronts.
 */
import type { LeaseRecord } from './records.js';

/** Past these many dead entries, and more dead than live, a FIFO is compacted. */
const COMPACT_MIN = 64;

class Fifo {
  items: LeaseRecord[] = [];
  head = 0;
  stale = 0;
  readonly leaseMs: number;

  constructor(leaseMs: number) {
    this.leaseMs = leaseMs;
  }

  get live(): number {
    return this.items.length - this.head - this.stale;
  }

  /** Drops settled entries at the front so that the front is live (or the FIFO empty). */
  trim(): void {
    while (this.head < this.items.length) {
      const front = this.items[this.head];
      if (front?.isActive) break;
      this.head++;
      this.stale--;
    }
    if (this.head === this.items.length) {
      // Emptied in place: one task at a time, a FIFO empties on every result.
      this.items.length = 0;
      this.head = 0;
      this.stale = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  compact(): void {
    const kept: LeaseRecord[] = [];
    for (let k = this.head; k < this.items.length; k++) {
      const rec = this.items[k];
      if (rec?.isActive) kept.push(rec);
    }
    this.items = kept;
    this.head = 0;
    this.stale = 0;
  }
}

/** Active leases ordered by expiry. Deletion is lazy and compacted: memory stays O(active). */
export class ExpiryQueue {
  readonly #fifos = new Map<number, Fifo>();
  #live = 0;
  /** The FIFO used last, and its lease length: jobs mostly share one length. */
  #lastMs = NaN;
  #lastFifo: Fifo | undefined = undefined;

  /** Active leases held in the queue. */
  get size(): number {
    return this.#live;
  }

  /** `leaseMs` groups leases whose expiries are issued in order. */
  add(rec: LeaseRecord, leaseMs: number): void {
    let fifo = this.#fifo(leaseMs);
    if (fifo === undefined) {
      fifo = new Fifo(leaseMs);
      this.#fifos.set(leaseMs, fifo);
      this.#use(fifo);
    }
    const last = fifo.items[fifo.items.length - 1];
    if (last !== undefined && last.expiresAt > rec.expiresAt) {
      throw new Error(`lease ${rec.lease} expires before lease ${last.lease}`);
    }
    fifo.items.push(rec);
    this.#live++;
  }

  /** Forgets an active lease that was just settled (call after setting `settled`). */
  remove(rec: LeaseRecord, leaseMs: number): void {
    const fifo = this.#fifo(leaseMs);
    if (fifo === undefined) throw new Error(`lease ${rec.lease} not queued`);
    fifo.stale++;
    this.#live--;
    fifo.trim();
    if (fifo.stale > COMPACT_MIN && fifo.stale > fifo.live) fifo.compact();
    // The FIFO used last stays when empty (one task at a time it empties on every result
    // and would be made again for the next task); it goes once another is used.
    if (fifo.items.length === 0 && fifo !== this.#lastFifo)
      this.#drop(leaseMs, fifo);
  }

  #fifo(leaseMs: number): Fifo | undefined {
    if (leaseMs === this.#lastMs) return this.#lastFifo;
    const fifo = this.#fifos.get(leaseMs);
    if (fifo !== undefined) this.#use(fifo);
    return fifo;
  }

  /** Makes `fifo` the one used last, dropping the one before if it was left empty. */
  #use(fifo: Fifo): void {
    const before = this.#lastFifo;
    this.#lastMs = fifo.leaseMs;
    this.#lastFifo = fifo;
    if (before !== undefined && before !== fifo && before.items.length === 0)
      this.#fifos.delete(before.leaseMs);
  }

  #drop(leaseMs: number, fifo: Fifo): void {
    this.#fifos.delete(leaseMs);
    if (this.#lastFifo === fifo) {
      this.#lastMs = NaN;
      this.#lastFifo = undefined;
    }
  }

  /** The earliest expiry of an active lease. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const fifo of this.#fifos.values()) {
      const front = fifo.items[fifo.head];
      if (
        front !== undefined &&
        (next === undefined || front.expiresAt < next)
      ) {
        next = front.expiresAt;
      }
    }
    return next;
  }

  /** Removes and returns one lease with `expiresAt <= now`, earliest first. */
  popDue(now: number): LeaseRecord | undefined {
    let fifo: Fifo | undefined;
    let best: LeaseRecord | undefined;
    for (const candidate of this.#fifos.values()) {
      const front = candidate.items[candidate.head];
      if (front === undefined || front.expiresAt > now) continue;
      if (best === undefined || front.expiresAt < best.expiresAt) {
        best = front;
        fifo = candidate;
      }
    }
    if (fifo === undefined) return undefined;
    fifo.head++;
    this.#live--;
    fifo.trim();
    if (fifo.items.length === 0 && fifo !== this.#lastFifo)
      this.#drop(fifo.leaseMs, fifo);
    return best;
  }

  /** Every active lease in the queue; for invariant checks. */
  *live(): IterableIterator<LeaseRecord> {
    for (const fifo of this.#fifos.values()) {
      let last = -Infinity;
      for (let k = fifo.head; k < fifo.items.length; k++) {
        const rec = fifo.items[k];
        if (rec === undefined) continue;
        if (rec.expiresAt < last) throw new Error('expiry queue out of order');
        last = rec.expiresAt;
        if (rec.isActive) yield rec;
      }
    }
  }
}
