/**
 * A growing UTF-8 buffer for frames and response pages built from many stored texts.
 * Each text is copied in once; the same page built as one string was copied again to
 * be flattened, measured and encoded by the socket, each copy into fresh memory once
 * the string passed V8's large-object size.
 */
export class Utf8Bytes {
  #buffer: Buffer;
  #at = 0;

  /** @param capacity bytes to start with (a good guess saves copies as it grows) */
  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(Math.max(capacity, 64));
  }

  put(text: string): void {
    const left = this.#buffer.length - this.#at;
    // The exact size is measured only when the bound (3 bytes a UTF-16 unit) says the
    // text might not fit.
    if (left < text.length * 3) {
      const size = Buffer.byteLength(text, 'utf8');
      if (left < size) this.#grow(size);
    }
    this.#at += this.#buffer.write(text, this.#at);
  }

  byte(value: number): void {
    if (this.#at === this.#buffer.length) this.#grow(1);
    this.#buffer[this.#at++] = value;
  }

  #grow(room: number): void {
    const grown = Buffer.allocUnsafe(
      Math.max(this.#buffer.length * 2, this.#at + room),
    );
    this.#buffer.copy(grown, 0, 0, this.#at);
    this.#buffer = grown;
  }

  /** What was written (a view of the buffer, not a copy). */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#at);
  }
}
