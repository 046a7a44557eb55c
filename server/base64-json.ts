/**
 * Bytes in JSON over HTTP: a `Uint8Array` travels as `{"$base64": "..."}`, both ways
 * (inputs from the client to the master, outputs in the results NDJSON). Between the
 * master and workers bytes stay bytes (binary frames, shared/codec.ts).
 */

/**
 * JSON.stringify replacer that writes every `Uint8Array` (or Buffer) as
 * `{"$base64": "..."}`. It reads the holder's own value, since a Buffer's `toJSON` has
 * already run on the value it is handed.
 */
export function bytesAsBase64(
  this: unknown,
  key: string,
  value: unknown,
): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Uint8Array
    ? {
        $base64: Buffer.from(
          raw.buffer,
          raw.byteOffset,
          raw.byteLength,
        ).toString('base64'),
      }
    : value;
}

/** True if `value` holds a Uint8Array anywhere (iterative: no depth limit, no recursion). */
export function holdsBytes(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    if (item instanceof Uint8Array) return true;
    if (Array.isArray(item)) {
      for (const element of item)
        if (element !== null && typeof element === 'object')
          stack.push(element);
    } else {
      for (const key in item) {
        const element = (item as Record<string, unknown>)[key];
        if (element !== null && typeof element === 'object')
          stack.push(element);
      }
    }
  }
  return false;
}

/**
 * JSON text of `value` with bytes as `{"$base64": ...}`. The replacer runs only when
 * there are bytes: called on every value, it makes a big batch of numbers ten times
 * slower to write.
 */
export function toJsonText(value: unknown): string {
  return holdsBytes(value)
    ? JSON.stringify(value, bytesAsBase64)
    : JSON.stringify(value);
}

/** Turns every `{"$base64": "..."}` in a parsed JSON value back into a Uint8Array, in place. */
export function reviveBase64(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 256) throw new Error('nested too deeply');
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      value[i] = reviveBase64(value[i], depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (
    keys.length === 1 &&
    keys[0] === '$base64' &&
    typeof record.$base64 === 'string'
  ) {
    return new Uint8Array(Buffer.from(record.$base64, 'base64'));
  }
  for (const key of keys) {
    // Assigning to a `__proto__` key would re-parent the object: leave it as parsed.
    if (key !== '__proto__') record[key] = reviveBase64(record[key], depth + 1);
  }
  return record;
}
