/**
 * Framing on the pipe between the worker and its sandboxed child: each message is
 * `[u32 LE length][u8 kind][body]`. Batches and successes go in columns of doubles
 * (columns.ts); everything else as `v8.serialize(message)`, whose structured-clone
 * format keeps `Uint8Array`s as bytes. Frames the child sends are untrusted (task code
 * runs in it): the reader bounds their size and reports a malformed frame instead of
 * throwing.
 */
import { deserialize, serialize } from 'node:v8';
import {
  FRAME_CLONE,
  FRAME_DONE,
  FRAME_SUBMIT,
  doneFrame,
  readDone,
  readSubmit,
  submitFrame,
} from './columns.js';
import type { FromChild, ToChild } from './messages.js';

/** Largest frame either side accepts (a batch of large outputs fits). */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export function encodeFrame(message: ToChild | FromChild): Buffer {
  if (message.t === 'submit') {
    const { batch, first } = message;
    const fast = submitFrame(batch, first);
    if (fast) return fast;
    // The clone (a batch with checkpoints to resume) carries the ids as its leases.
    const leases = batch.leases.map((_, i) => first + i);
    return cloneFrame({ t: 'submit', batch: { ...batch, leases } });
  }
  const fast = message.t === 'done' ? doneFrame(message) : null;
  return fast ?? cloneFrame(message);
}

function cloneFrame(message: unknown): Buffer {
  const body = serialize(message);
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32LE(body.length + 1, 0);
  head[4] = FRAME_CLONE;
  return Buffer.concat([head, body]);
}

/** The message in a frame's body (its kind byte first); throws if malformed. */
export function decodeBody(body: Buffer): unknown {
  const kind = body.length > 0 ? (body[0] as number) : -1;
  switch (kind) {
    case FRAME_CLONE:
      return deserialize(body.subarray(1));
    case FRAME_SUBMIT:
      return readSubmit(body);
    case FRAME_DONE:
      return readDone(body);
    default:
      throw new Error(`unknown frame kind ${kind}`);
  }
}

/** Accumulates chunks from a stream and calls `onMessage` for each whole frame. */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1;
  #broken = false;
  readonly #onMessage: (message: unknown) => void;
  readonly #onBadFrame: (reason: string) => void;

  constructor(
    onMessage: (message: unknown) => void,
    onBadFrame: (reason: string) => void,
  ) {
    this.#onMessage = onMessage;
    this.#onBadFrame = onBadFrame;
  }

  push(chunk: Buffer): void {
    if (this.#broken) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) return;
        this.#need = this.#take(4).readUInt32LE(0);
        if (this.#need > MAX_FRAME_BYTES)
          return this.#fail(`a frame of ${this.#need} bytes is too large`);
      }
      if (this.#buffered < this.#need) return;
      const body = this.#take(this.#need);
      this.#need = -1;
      let message: unknown;
      try {
        message = decodeBody(body);
      } catch (error) {
        return this.#fail(`a malformed frame: ${(error as Error).message}`);
      }
      this.#onMessage(message);
      if (this.#broken) return;
    }
  }

  #fail(reason: string): void {
    this.#broken = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.#onBadFrame(reason);
  }

  /** Removes the first `n` buffered bytes (the caller checked they are there). */
  #take(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const chunk = this.#chunks[0] as Buffer;
        const part = Math.min(chunk.length, n - at);
        chunk.copy(out, at, 0, part);
        at += part;
        if (part === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(part);
      }
    }
    this.#buffered -= n;
    return out;
  }
}
