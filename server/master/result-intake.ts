/**
 * Turns a `results` frame into the scheduler's results: each output encoded as the store
 * keeps it, with the digest replicas are compared by; failures pass through.
 */
import { createHash } from 'node:crypto';
import { stripControls } from '../../shared/sanitize.js';
import type { Results } from '../../shared/protocol.js';
import type { Lease, ReceivedResult } from './scheduler/types.js';
import { encodeStored } from './store/value-codec.js';

/**
 * @param isBinary whether the frame was binary (only a binary frame can carry bytes)
 * @param storedOutputs the outputs as the JSON text the worker sent (a scanned text
 *   frame): stored as they are
 */
export function toReceivedResults(
  message: Results,
  isBinary: boolean,
  storedOutputs?: readonly string[],
): ReceivedResult[] {
  const { leases, outputs, failures = [], busyMs } = message;
  const received: ReceivedResult[] = [];
  for (let i = 0; i < leases.length; i++) {
    const lease = leases[i] as Lease;
    try {
      // A text frame's outputs are plain JSON: stored as their text without a walk.
      const output =
        storedOutputs?.[i] ??
        (isBinary ? undefined : JSON.stringify(outputs[i])) ??
        encodeStored(outputs[i]);
      received.push({
        lease,
        ok: true,
        output,
        // Text is its own digest, taken by the scheduler only for replicas.
        digest: typeof output === 'string' ? undefined : digestOf(output),
        bytes: sizeOf(output),
        busyMs: busyMs?.[i],
      });
    } catch (error) {
      received.push({
        lease,
        ok: false,
        kind: 'error',
        error: `the output could not be stored: ${(error as Error).message}`,
      });
    }
  }
  // Error text ends up in terminals and logs: no control or bidi characters.
  for (const failure of failures)
    received.push({
      ...failure,
      error: stripControls(failure.error),
      ok: false,
    });
  return received;
}

/** Bytes of an output as stored (UTF-8 for JSON text). */
function sizeOf(output: string | Uint8Array): number {
  return typeof output === 'string'
    ? Buffer.byteLength(output, 'utf8')
    : output.byteLength;
}

/**
 * Replicas compare outputs by digest: JSON text is its own digest (no hashing on the
 * hot path), bytes are hashed.
 */
export function digestOf(output: string | Uint8Array): string {
  if (typeof output === 'string') return `t:${output}`;
  return `h:${createHash('sha256').update(output).digest('hex')}`;
}
