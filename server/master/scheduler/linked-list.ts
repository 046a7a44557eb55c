/**
 * A list threaded through its members (an intrusive doubly linked list): adding and
 * removing a member touch no hash table and allocate nothing. That matters for what is
 * added and removed once per task, and for long-lived collections: V8 gives a
 * long-lived Map or Set a new table as it fills and empties, in the old generation
 * where its table lives, which only a mark-compact takes back. A member is in at most
 * one list at a time.
 */
export interface Linked<T> {
  /** The list it is in, if any. */
  list: object | undefined;
  prevInList: T | undefined;
  nextInList: T | undefined;
}

export class LinkedList<T extends Linked<T>> implements Iterable<T> {
  #head: T | undefined = undefined;
  #tail: T | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(item: T): boolean {
    return item.list === this;
  }

  /** Appends `item`, which must be in no list. */
  append(item: T): void {
    if (item.list !== undefined) throw new Error('listed twice');
    item.list = this;
    item.prevInList = this.#tail;
    item.nextInList = undefined;
    if (this.#tail) this.#tail.nextInList = item;
    else this.#head = item;
    this.#tail = item;
    this.#size++;
  }

  /** Unlinks `item`; false if it was not in this list. */
  delete(item: T): boolean {
    if (item.list !== this) return false;
    const { prevInList: prev, nextInList: next } = item;
    if (prev) prev.nextInList = next;
    else this.#head = next;
    if (next) next.prevInList = prev;
    else this.#tail = prev;
    item.list = undefined;
    item.prevInList = undefined;
    item.nextInList = undefined;
    this.#size--;
    return true;
  }

  /** A copy in list order: callers may then change the list while they walk it. */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.#head; item; item = item.nextInList) out.push(item);
    return out;
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.toArray()[Symbol.iterator]();
  }
}
