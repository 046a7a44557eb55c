/**
 * What every message of the wire contract is built from: its bounds and its ids. Apart
 * from the message schemas (shared/protocol.ts, which re-exports these) so that the
 * hot-path checks (shared/protocol-fast.ts) and the dashboard's messages
 * (shared/protocol-dashboard.ts) use the very same numbers and ids.
 */
import * as z from 'zod';
import { LIMITS } from './limits.js';

// In their own zod-free module (see there); part of the contract as before.
export { LIMITS };

/** Longest job, worker or volunteer id; the schemas and the fast-path checks use it. */
export const MAX_ID_LENGTH = 64;
/** A task module's content hash (SHA-256, hex); used by the schema and the fast path. */
export const MODULE_HASH_PATTERN = /^[0-9a-f]{64}$/;

// Ids are branded: a WorkerId cannot stand where a JobId is wanted. Values get their
// brand where they enter (these schemas, store reads, id generation), never mid-code.
export const JobId = z.string().min(1).max(MAX_ID_LENGTH).brand<'JobId'>();
export type JobId = z.infer<typeof JobId>;
export const WorkerId = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .brand<'WorkerId'>();
export type WorkerId = z.infer<typeof WorkerId>;
/** Who a worker proved to be at `hello`: replicas go to distinct volunteers. */
export const VolunteerId = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .brand<'VolunteerId'>();
export type VolunteerId = z.infer<typeof VolunteerId>;
/** Fencing token: unique per dispatch, increasing; results quote it. */
export const Lease = z
  .number()
  .int()
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER)
  .brand<'Lease'>();
export type Lease = z.infer<typeof Lease>;
export const ModuleHash = z.string().regex(MODULE_HASH_PATTERN);
export const WorkerKind = z.enum(['node', 'browser']);
export type WorkerKind = z.infer<typeof WorkerKind>;

/** Where a Node worker runs task code (`colony worker --sandbox`), as its `hello` says. */
export const NodeSandbox = z.enum(['bwrap', 'permission', 'none']);
export type NodeSandbox = z.infer<typeof NodeSandbox>;
/** Where a worker's task code runs, as the master shows it: a browser's in Web Workers. */
export const WorkerSandbox = z.enum([...NodeSandbox.options, 'browser']);
export type WorkerSandbox = z.infer<typeof WorkerSandbox>;

export const Name = z.string().min(1).max(LIMITS.maxNameLength);
export const ErrorText = z.string().max(LIMITS.maxErrorLength);
