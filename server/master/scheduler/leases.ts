/**
 * Leases (bullmq's locks, fenced by an increasing token) and the queue that finds the
 * expired ones cheaply. Leases of one lease length expire in the order they were issued,
 * because the scheduler's clock never goes back; so one FIFO per length replaces a heap,
 * and the earliest expiry is the smallest of a handful of FIFO fronts.
 */
import type { Lease } from './types.js';
import type { JobRecord, WorkerRecord } from './records.js';

/** One dispatch of one task to one worker. */
export class LeaseRecord {
  /** Past its expiry: the task was re-queued; the record stays to fence a late result. */
  expired = false;
  /** Removed from every structure (the expiry queue deletes lazily). */
  settled = false;
  /** The task's other outstanding leases (a short linked list, newest first). */
  nextOfTask: LeaseRecord | undefined = undefined;

  readonly lease: Lease;
  readonly job: JobRecord;
  readonly index: number;
  readonly worker: WorkerRecord;
  readonly expiresAt: number;

  constructor(
    lease: Lease,
    job: JobRecord,
    index: number,
    worker: WorkerRecord,
    expiresAt: number,
  ) {
    this.lease = lease;
    this.job = job;
    this.index = index;
    this.worker = worker;
    this.expiresAt = expiresAt;
  }

  /** Active: counts as the task running on its worker. */
  get isActive(): boolean {
    return !this.expired && !this.settled;
  }
}

/** Past these many dead entries, and more dead than live, a FIFO is compacted. */
const COMPACT_MIN = 64;

class Fifo {
  items: LeaseRecord[] = [];
  head = 0;
  stale = 0;

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
      this.items = [];
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

  /** Active leases held in the queue. */
  get size(): number {
    return this.#live;
  }

  /** `leaseMs` groups leases whose expiries are issued in order. */
  add(rec: LeaseRecord, leaseMs: number): void {
    let fifo = this.#fifos.get(leaseMs);
    if (fifo === undefined) {
      fifo = new Fifo();
      this.#fifos.set(leaseMs, fifo);
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
    const fifo = this.#fifos.get(leaseMs);
    if (fifo === undefined) throw new Error(`lease ${rec.lease} not queued`);
    fifo.stale++;
    this.#live--;
    fifo.trim();
    if (fifo.stale > COMPACT_MIN && fifo.stale > fifo.live) fifo.compact();
    if (fifo.items.length === 0) this.#fifos.delete(leaseMs);
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
    let best: [number, Fifo] | undefined;
    for (const entry of this.#fifos) {
      const front = entry[1].items[entry[1].head];
      if (front === undefined || front.expiresAt > now) continue;
      const bestFront = best?.[1].items[best[1].head];
      if (bestFront === undefined || front.expiresAt < bestFront.expiresAt) {
        best = entry;
      }
    }
    if (best === undefined) return undefined;
    const [leaseMs, fifo] = best;
    const rec = fifo.items[fifo.head];
    fifo.head++;
    this.#live--;
    fifo.trim();
    if (fifo.items.length === 0) this.#fifos.delete(leaseMs);
    return rec;
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
