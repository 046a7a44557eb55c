/**
 * Request bodies of the inputs routes, read into one buffer kept from one body to the
 * next. A POST of 100,000 records is ~15 MB: collecting its chunks and joining them
 * into a new buffer each time touched fresh memory for every byte (page faults, then
 * a collection to give it back), which cost more than scanning the body. The kept
 * buffer is lent to one request at a time; a body read while it is lent, or one bigger
 * than {@link KEPT_BYTES}, is read into a buffer of its own as before.
 */
import type { IncomingMessage } from 'node:http';
import { AppError, ErrorCode } from '../../../shared/errors.js';
import { declaredLength } from '../http-util.js';

/** The largest buffer kept between requests (a bigger body gets one of its own). */
export const KEPT_BYTES = 32 * 1024 * 1024;

/** A body read whole: valid until `release()`, which gives the kept buffer back. */
export interface LentBody {
  bytes: Buffer;
  release(): void;
}

let kept: Buffer | undefined;
let lent = false;

/**
 * Reads a whole body, refusing past `limitBytes` with 413 (checked before and while
 * reading). The caller reads `bytes` and then calls `release()` (also on errors): the
 * kept buffer is reused by the next request, so nothing may hold on to `bytes`.
 */
export async function readLentBody(
  req: IncomingMessage,
  limitBytes: number,
): Promise<LentBody> {
  const declared = declaredLength(req, limitBytes);
  const borrowed = !lent;
  if (borrowed) lent = true;
  let buffer = borrowed ? kept : undefined;
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      const needed = size + chunk.length;
      if (needed > limitBytes) {
        req.resume();
        throw new AppError(
          ErrorCode.PayloadTooLarge,
          `body exceeds the limit of ${limitBytes} bytes`,
        );
      }
      if (buffer === undefined || needed > buffer.length) {
        buffer = grown(buffer, size, needed, declared, limitBytes);
        if (borrowed && buffer.length <= KEPT_BYTES) kept = buffer;
      }
      chunk.copy(buffer, size);
      size = needed;
    }
  } catch (error) {
    if (borrowed) lent = false;
    throw error;
  }
  const bytes = (buffer ?? Buffer.alloc(0)).subarray(0, size);
  let released = false;
  return {
    bytes,
    release: () => {
      if (released || !borrowed) return;
      released = true;
      lent = false;
    },
  };
}

/**
 * A buffer holding the `size` bytes of `old` with room for at least `needed`: the
 * declared length when it is known and enough, else doubled (within the limit).
 */
function grown(
  old: Buffer | undefined,
  size: number,
  needed: number,
  declared: number,
  limitBytes: number,
): Buffer {
  const wanted =
    Number.isFinite(declared) && declared >= needed
      ? declared
      : Math.min(limitBytes, Math.max(needed, (old?.length ?? 0) * 2, 65_536));
  const buffer = Buffer.allocUnsafe(wanted);
  if (old !== undefined && size > 0) old.copy(buffer, 0, 0, size);
  return buffer;
}
