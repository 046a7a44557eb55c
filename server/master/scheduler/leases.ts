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
  /** The worker's list (active or expired) this lease is linked into, and its neighbours there. */
  list: LeaseList | undefined = undefined;
  prevInList: LeaseRecord | undefined = undefined;
  nextInList: LeaseRecord | undefined = undefined;

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

/**
 * A worker's active or expired leases, in the order they were added: an intrusive doubly
 * linked list through the records, so that adding and removing a lease (once each per
 * task) touches no hash table and allocates nothing. A record is in at most one list.
 */
export class LeaseList {
  #head: LeaseRecord | undefined = undefined;
  #tail: LeaseRecord | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(rec: LeaseRecord): boolean {
    return rec.list === this;
  }

  /** Appends `rec` (which must be in no list). */
  add(rec: LeaseRecord): void {
    if (rec.list !== undefined)
      throw new Error(`lease ${rec.lease} listed twice`);
    rec.list = this;
    rec.prevInList = this.#tail;
    rec.nextInList = undefined;
    if (this.#tail) this.#tail.nextInList = rec;
    else this.#head = rec;
    this.#tail = rec;
    this.#size++;
  }

  /** Unlinks `rec`; false if it was not in this list. */
  delete(rec: LeaseRecord): boolean {
    if (rec.list !== this) return false;
    const { prevInList: prev, nextInList: next } = rec;
    if (prev) prev.nextInList = next;
    else this.#head = next;
    if (next) next.prevInList = prev;
    else this.#tail = prev;
    rec.list = undefined;
    rec.prevInList = undefined;
    rec.nextInList = undefined;
    this.#size--;
    return true;
  }

  /** A copy in list order: callers may then change the list while they walk it. */
  toArray(): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    for (let rec = this.#head; rec; rec = rec.nextInList) out.push(rec);
    return out;
  }

  [Symbol.iterator](): IterableIterator<LeaseRecord> {
    return this.toArray()[Symbol.iterator]();
  }
}

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
      this.#lastMs = leaseMs;
      this.#lastFifo = fifo;
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
    if (fifo.items.length === 0) this.#drop(leaseMs, fifo);
  }

  #fifo(leaseMs: number): Fifo | undefined {
    if (leaseMs === this.#lastMs) return this.#lastFifo;
    const fifo = this.#fifos.get(leaseMs);
    if (fifo !== undefined) {
      this.#lastMs = leaseMs;
      this.#lastFifo = fifo;
    }
    return fifo;
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
    if (fifo.items.length === 0) this.#drop(fifo.leaseMs, fifo);
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
