/**
 * What `ctx.checkpoint(state)` accepts, checked in the task's own thread so that the
 * task's author learns of a bad state where it was made (a throw), not from a log line
 * on the worker.
 */
import { encodeFrame } from '../codec.js';
import { LIMITS } from '../limits.js';

/** Largest checkpoint a worker sends; a job may allow less (`maxCheckpointBytes`). */
export const MAX_CHECKPOINT_BYTES = LIMITS.maxCheckpointBytes;

/**
 * The state as it will travel: an ArrayBuffer becomes a Uint8Array; anything else must
 * be a JSON value (bytes may sit inside it). Throws a TypeError for a value that is
 * neither, a RangeError for one over {@link MAX_CHECKPOINT_BYTES}.
 */
export function checkpointState(state: unknown): unknown {
  const value = state instanceof ArrayBuffer ? new Uint8Array(state) : state;
  let encoded: string | Uint8Array | undefined;
  try {
    encoded = encodeFrame(value) as string | Uint8Array | undefined;
  } catch (error) {
    throw new TypeError(
      `ctx.checkpoint: the state is not a JSON value or bytes (${(error as Error).message})`,
    );
  }
  if (encoded === undefined)
    throw new TypeError(
      'ctx.checkpoint: the state is not a JSON value or bytes',
    );
  // UTF-16 units of the text: the master counts exact UTF-8 bytes against the job's bound.
  const size =
    typeof encoded === 'string' ? encoded.length : encoded.byteLength;
  if (size > MAX_CHECKPOINT_BYTES)
    throw new RangeError(
      `ctx.checkpoint: a state of ${size} bytes is over the limit of ${MAX_CHECKPOINT_BYTES}`,
    );
  return value;
}
