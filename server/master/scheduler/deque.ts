/**
 * A growable ring buffer of task indices with O(1) push and pop at both ends. A job's
 * re-queued tasks live here (4 bytes each), ahead of its fresh tasks.
 */
export class IndexDeque {
  #buf: Int32Array;
  #head = 0;
  #size = 0;

  constructor(capacity = 8) {
    this.#buf = new Int32Array(Math.max(2, capacity));
  }

  get length(): number {
    return this.#size;
  }

  pushBack(index: number): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) % this.#buf.length] = index;
    this.#size++;
  }

  pushFront(index: number): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#head = (this.#head - 1 + this.#buf.length) % this.#buf.length;
    this.#buf[this.#head] = index;
    this.#size++;
  }

  /** The first index, or -1 when empty. */
  peekFront(): number {
    return this.#size === 0 ? -1 : (this.#buf[this.#head] ?? -1);
  }

  /** Removes and returns the first index, or -1 when empty. */
  popFront(): number {
    if (this.#size === 0) return -1;
    const index = this.#buf[this.#head] ?? -1;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#size--;
    return index;
  }

  clear(): void {
    this.#buf = new Int32Array(2);
    this.#head = 0;
    this.#size = 0;
  }

  /** Front to back; for invariant checks and tests. */
  *values(): IterableIterator<number> {
    for (let k = 0; k < this.#size; k++) {
      yield this.#buf[(this.#head + k) % this.#buf.length] ?? -1;
    }
  }

  #grow(): void {
    const next = new Int32Array(this.#buf.length * 2);
    for (let k = 0; k < this.#size; k++) {
      next[k] = this.#buf[(this.#head + k) % this.#buf.length] ?? -1;
    }
    this.#buf = next;
    this.#head = 0;
  }
}
