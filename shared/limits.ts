/**
 * Upper bounds that keep every message bounded (also announced in `welcome.limits`).
 * A module of their own, free of zod, so that code running in a task's thread or the
 * sandboxed child (the checkpoint check) can read them without loading the schemas.
 */
export const LIMITS = {
  maxSlots: 256,
  maxCredit: 100_000,
  maxBatch: 10_000,
  maxNameLength: 100,
  maxErrorLength: 4_096,
  /**
   * Largest checkpoint (`ctx.checkpoint`) any job may allow, in bytes as stored; a
   * job's own bound is its `maxCheckpointBytes` option (1 MiB by default).
   */
  maxCheckpointBytes: 16 * 1024 * 1024,
  /** Largest `busyMs` of one result: a week of one thread. */
  maxBusyMs: 7 * 24 * 3600 * 1000,
} as const;
