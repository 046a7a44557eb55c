/**
 * How values are kept in the store: JSON text, or a binary codec frame when the value
 * holds bytes (the same encoding as the wire, so a stored input can be spliced into a
 * frame without parsing it).
 */
import { decodeFrame, encodeFrame } from '../../../shared/codec.js';
import type { EncodedValue } from './store.js';

/** Turns a stored value back into a plain value (JSON text or a binary codec frame). */
export function decodeStored(value: EncodedValue): unknown {
  const decoded = decodeFrame(value);
  if (!decoded.ok) throw new Error(`corrupt stored value: ${decoded.error}`);
  return decoded.value;
}

/**
 * Encodes a value for the store: JSON text, or a binary codec frame if it holds bytes.
 * Throws on values JSON cannot hold (cycles, nesting too deep for the stack).
 */
export function encodeStored(value: unknown): EncodedValue {
  const encoded = encodeFrame(value);
  if (encoded === undefined) throw new Error('value is not JSON');
  return encoded;
}
