/**
 * Frames on the wire. A message without binary values is one JSON text frame. A message
 * carrying `Uint8Array`s (task inputs or outputs) is one binary frame, so bytes travel as
 * bytes (no base64, no arrays of numbers):
 *
 *   [u32 LE header length][header: UTF-8 JSON {"m": message, "b": [byte lengths]}][blobs...]
 *
 * In the header each `Uint8Array` is replaced by `{"$bin": k}`, k indexing the blobs.
 * An object whose only key is `$bin` is therefore reserved inside binary frames.
 */

const BIN_KEY = '$bin';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bounded scan: true if `value` holds a Uint8Array anywhere. */
export function containsBinary(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return true;
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (containsBinary(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (containsBinary((value as Record<string, unknown>)[key], depth + 1))
      return true;
  }
  return false;
}

/** Encodes one message as a text frame, or as a binary frame if it carries bytes. */
export function encodeFrame(message: unknown): string | Uint8Array {
  if (!containsBinary(message)) return JSON.stringify(message);
  const blobs: Uint8Array[] = [];
  const header = JSON.stringify(
    {
      m: message,
      b: null as null | number[],
    },
    (_key, value: unknown) => {
      if (value instanceof Uint8Array) {
        blobs.push(value);
        return { [BIN_KEY]: blobs.length - 1 };
      }
      return value;
    },
  );
  // The lengths are known only after the walk: splice them in at the end.
  const headerText = `${header.slice(0, -'null}'.length)}${JSON.stringify(blobs.map((b) => b.byteLength))}}`;
  const headerBytes = encoder.encode(headerText);
  let total = 4 + headerBytes.byteLength;
  for (const blob of blobs) total += blob.byteLength;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, headerBytes.byteLength, true);
  out.set(headerBytes, 4);
  let offset = 4 + headerBytes.byteLength;
  for (const blob of blobs) {
    out.set(blob, offset);
    offset += blob.byteLength;
  }
  return out;
}

export type DecodedFrame =
  { ok: true; value: unknown } | { ok: false; error: string };

/** Decodes a text or binary frame into a plain value. Never throws. */
export function decodeFrame(frame: string | Uint8Array): DecodedFrame {
  try {
    if (typeof frame === 'string')
      return { ok: true, value: JSON.parse(frame) };
    return decodeBinary(frame);
  } catch (error) {
    return {
      ok: false,
      error: `not a valid frame: ${(error as Error).message}`.slice(0, 300),
    };
  }
}

function decodeBinary(frame: Uint8Array): DecodedFrame {
  if (frame.byteLength < 4)
    return { ok: false, error: 'binary frame too short' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(0, true);
  if (headerLength > frame.byteLength - 4) {
    return { ok: false, error: 'binary frame header overruns the frame' };
  }
  const header: unknown = JSON.parse(
    decoder.decode(frame.subarray(4, 4 + headerLength)),
  );
  if (
    header === null ||
    typeof header !== 'object' ||
    !Array.isArray((header as { b?: unknown }).b)
  ) {
    return {
      ok: false,
      error: 'binary frame header must be {"m": ..., "b": [...]}',
    };
  }
  const lengths = (header as { b: unknown[] }).b;
  const blobs: Uint8Array[] = [];
  let offset = 4 + headerLength;
  for (const length of lengths) {
    if (
      typeof length !== 'number' ||
      !Number.isInteger(length) ||
      length < 0 ||
      offset + length > frame.byteLength
    ) {
      return {
        ok: false,
        error: 'binary frame blob lengths do not match the frame',
      };
    }
    // A copy, so that a kept value does not pin the whole frame in memory.
    blobs.push(frame.slice(offset, offset + length));
    offset += length;
  }
  if (offset !== frame.byteLength) {
    return { ok: false, error: 'binary frame has trailing bytes' };
  }
  const revived = revive((header as { m: unknown }).m, blobs, 0);
  return { ok: true, value: revived };
}

function revive(value: unknown, blobs: Uint8Array[], depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 256) throw new Error('binary frame nested too deeply');
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      value[i] = revive(value[i], blobs, depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === BIN_KEY) {
    const index = record[BIN_KEY];
    const blob = typeof index === 'number' ? blobs[index] : undefined;
    if (!blob) throw new Error('binary frame references a missing blob');
    return blob;
  }
  for (const key of keys) {
    // Assigning to a `__proto__` key would re-parent the object: leave it as parsed.
    if (key !== '__proto__')
      record[key] = revive(record[key], blobs, depth + 1);
  }
  return value;
}
