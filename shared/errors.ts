/**
 * The one catalogue of error codes. HTTP error bodies (`{error: {code, message}}`),
 * WebSocket `error` frames and CLI messages all use these strings, so that logs and
 * clients can match on them. Every code is produced somewhere and documented in
 * docs/errors.md (test/unit/shared/errors-catalogue.test.ts checks both).
 */
export const ErrorCode = {
  /** A frame or body that is not valid JSON or does not match its schema. */
  InvalidMessage: 'E_INVALID_MESSAGE',
  /** The worker's `hello` names a protocol version this master does not speak. */
  ProtocolMismatch: 'E_PROTOCOL_MISMATCH',
  /** A message other than `hello` arrived before the handshake, or `hello` twice. */
  HandshakeRequired: 'E_HANDSHAKE_REQUIRED',
  /** A `hello` without a volunteer proof, or with a key or signature that does not verify. */
  BadIdentity: 'E_BAD_IDENTITY',
  /** A result quotes a lease this worker does not hold (unknown, foreign or finished). */
  UnknownLease: 'E_UNKNOWN_LEASE',
  /** A frame or body is larger than the configured limit. */
  PayloadTooLarge: 'E_PAYLOAD_TOO_LARGE',
  /** The request's Content-Type is not one the route accepts. */
  UnsupportedMediaType: 'E_UNSUPPORTED_MEDIA_TYPE',
  /** Too many connections or pending handshakes from one address (HTTP 429 on upgrade). */
  TooManyRequests: 'E_TOO_MANY_REQUESTS',
  /** An output is larger than its job's `maxOutputBytes`; the task is tried elsewhere. */
  OutputTooLarge: 'E_OUTPUT_TOO_LARGE',
  /** A checkpoint is larger than its job's `maxCheckpointBytes`; it is not kept. */
  CheckpointTooLarge: 'E_CHECKPOINT_TOO_LARGE',
  /** The route needs `Authorization: Bearer <token>` and it is missing or wrong. */
  Unauthorized: 'E_UNAUTHORIZED',
  /** No such job, module or route. */
  NotFound: 'E_NOT_FOUND',
  /** The path exists but not for this method; the reply's `Allow` lists the methods. */
  MethodNotAllowed: 'E_METHOD_NOT_ALLOWED',
  /** A browser page of another origin (not in `--allowed-origins`) opened `/ws`. */
  Forbidden: 'E_FORBIDDEN',
  /** The request's `Host` is not one of `--allowed-hosts` (DNS rebinding defence). */
  MisdirectedRequest: 'E_MISDIRECTED',
  /** The job's input set is sealed (or the job ended): no more inputs. */
  JobSealed: 'E_JOB_SEALED',
  /** The task module does not parse or has no default export. */
  InvalidModule: 'E_INVALID_MODULE',
  /** A task threw; the message is the task's own. */
  TaskFailed: 'E_TASK_FAILED',
  /** A task killed its worker thread (exit, out of memory, past its lease) too often. */
  TaskKilledWorkers: 'E_TASK_KILLED_WORKERS',
  /** A task was dispatched more times than its bound without an answer. */
  TooManyDispatches: 'E_TOO_MANY_DISPATCHES',
  /** Replicas of a task kept disagreeing on its output. */
  ReplicasDisagree: 'E_REPLICAS_DISAGREE',
  /** A bad command-line flag or argument. */
  InvalidArgument: 'E_INVALID_ARGUMENT',
  /** The master could not be reached. */
  Unreachable: 'E_UNREACHABLE',
  /** An unexpected failure inside the master; the request may be retried. */
  Internal: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * WebSocket close codes the master uses (4000-4999 is the application range).
 * 1001 (going away) is sent on shutdown; 1009 (message too big) by `ws` on `maxPayload`.
 * A socket that misses its heartbeat is terminated without a close frame, so its peer
 * sees 1006.
 */
export const CloseCode = {
  /** The master is shutting down; reconnect later. */
  GoingAway: 1001,
  /**
   * A frame larger than allowed (closed by the `ws` library before it is buffered):
   * 64 KiB before `hello` and on dashboard sockets, `limits.maxPayloadBytes` after.
   */
  MessageTooBig: 1009,
  /** Too many malformed messages from this socket. */
  InvalidMessage: 4400,
  /** Handshake not completed in time, or a message before `hello`. */
  HandshakeRequired: 4401,
  /**
   * The peer does not drain its socket; its tasks were re-queued. The master starts the
   * close with this code and terminates the socket at once: the close frame waits behind
   * the full send buffer, so the peer itself usually sees 1006.
   */
  SlowConsumer: 4429,
  /** `hello.protocol` is not the version this master speaks. */
  ProtocolMismatch: 4426,
  /** `hello.volunteer` is missing, or its key or signature does not verify. */
  BadIdentity: 4403,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** An error carrying a catalogue code; thrown inside Node code, turned into JSON at the edge. */
export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = 'AppError';
  }
}

/** Used in `default:` branches of exhaustive switches. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
