/**
 * A map from integer keys to values, for keys that mostly arrive in increasing order
 * and leave soon: lease numbers (`State.leases`) and the task indices of a job's
 * outstanding leases (`JobRecord.outstanding`). Each is set and deleted once per task,
 * so a hash map paid a hash, a table entry and its rehash churn per task; here recent
 * keys live in a dense window array indexed by `key - base`. Keys that stay long (an
 * expired lease fencing a late result, a re-queued task) would pin a sparse window:
 * they move to an overflow map once the window is mostly empty, and keys below the
 * window go there directly.
 *
 * Invariant: a key is in the window (its slot holds a value) or in the overflow map,
 * never both. Memory is O(keys held): a new key extends the window over at most
 * {@link MAX_GAP} empty slots, and a delete that leaves it mostly empty evicts.
 */

/** Empty window slots tolerated before the window compacts or evicts. */
const WINDOW_SLACK = 1024;

/**
 * Empty slots a new key may skip past the window's end (tasks skipped because they were
 * done before a restart); a key further away goes to the overflow map.
 */
const MAX_GAP = 64;

export class WindowMap<V> {
  /** Slots `start..` hold keys `base + start ..`; `undefined` is no key. */
  #slots: (V | undefined)[] = [];
  #start = 0;
  #base = 0;
  /** Values in `#slots[#start..]`. */
  #inWindow = 0;
  readonly #overflow = new Map<number, V>();

  get size(): number {
    return this.#inWindow + this.#overflow.size;
  }

  get(key: number): V | undefined {
    const k = key - this.#base;
    if (k >= this.#start && k < this.#slots.length) {
      const value = this.#slots[k];
      if (value !== undefined) return value;
    }
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(key);
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets `key` (an integer) to `value` (not `undefined`). */
  set(key: number, value: V): void {
    const slots = this.#slots;
    const k = key - this.#base;
    const inRange = k >= this.#start && k < slots.length;
    if (inRange && slots[k] !== undefined) {
      slots[k] = value;
      return;
    }
    if (this.#overflow.size > 0 && this.#overflow.has(key)) {
      this.#overflow.set(key, value);
      return;
    }
    // A new key.
    if (this.#inWindow === 0) {
      // Empty window: restart it at this key.
      slots.length = 0;
      this.#start = 0;
      this.#base = key;
      slots.push(value);
      this.#inWindow = 1;
      return;
    }
    if (inRange) {
      slots[k] = value;
      this.#inWindow++;
      return;
    }
    if (k >= slots.length && k - slots.length <= MAX_GAP) {
      // Past the end (the usual case: the next lease, the next fresh task).
      while (slots.length < k) slots.push(undefined);
      slots.push(value);
      this.#inWindow++;
      return;
    }
    if (k >= slots.length) {
      // Far past the end (a run of tasks finished before a restart): the window
      // restarts here, and what it held moves aside (once: nothing comes back).
      this.#evict(slots.length);
      this.#slots = [value];
      this.#start = 0;
      this.#base = key;
      this.#inWindow = 1;
      return;
    }
    // Below the window.
    this.#overflow.set(key, value);
  }

  delete(key: number): boolean {
    const slots = this.#slots;
    const k = key - this.#base;
    if (k < this.#start || k >= slots.length || slots[k] === undefined)
      return this.#overflow.size > 0 && this.#overflow.delete(key);
    slots[k] = undefined;
    this.#inWindow--;
    // Keep the front occupied, and the window dense.
    while (this.#start < slots.length && slots[this.#start] === undefined)
      this.#start++;
    const span = slots.length - this.#start;
    if (span > WINDOW_SLACK && span > 4 * this.#inWindow) this.#evictFront();
    else if (this.#start > WINDOW_SLACK && this.#start * 2 > slots.length) {
      this.#slots = slots.slice(this.#start);
      this.#base += this.#start;
      this.#start = 0;
    }
    return true;
  }

  /** Moves the oldest window entries to the overflow map until the window is dense. */
  #evictFront(): void {
    const slots = this.#slots;
    let k = this.#start;
    while (k < slots.length && slots.length - k > 2 * this.#inWindow) k++;
    this.#evict(k);
    while (k < slots.length && slots[k] === undefined) k++;
    this.#slots = slots.slice(k);
    this.#base += k;
    this.#start = 0;
  }

  /** Moves the window's entries in slots `start..end-1` to the overflow map. */
  #evict(end: number): void {
    const slots = this.#slots;
    for (let k = this.#start; k < end; k++) {
      const value = slots[k];
      if (value !== undefined) {
        this.#overflow.set(this.#base + k, value);
        slots[k] = undefined;
        this.#inWindow--;
      }
    }
  }

  /** Every entry (overflow first, then the window in key order); a snapshot. */
  entries(): [number, V][] {
    const out: [number, V][] = [...this.#overflow];
    for (let k = this.#start; k < this.#slots.length; k++) {
      const value = this.#slots[k];
      if (value !== undefined) out.push([this.#base + k, value]);
    }
    return out;
  }

  keys(): number[] {
    return this.entries().map(([key]) => key);
  }

  /** Every value, in the order of {@link entries}; no pair per entry. */
  values(): V[] {
    const out: V[] = [...this.#overflow.values()];
    for (let k = this.#start; k < this.#slots.length; k++) {
      const value = this.#slots[k];
      if (value !== undefined) out.push(value);
    }
    return out;
  }
}
