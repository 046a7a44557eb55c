/**
 * What the runtime is given and shows: the link to the workers' sockets (the gateway),
 * its clock, the progress it emits for the dashboard, and its counters for /metrics.
 */
import type { Standing, WorkerKind } from '../../shared/protocol.js';
import type { JobId, Lease, WorkerId } from './scheduler/types.js';
import type { DispatchBatch } from './task-frames.js';

/** Where commands that touch sockets go (implemented by the gateway). */
export interface WorkerLink {
  sendTasks(workerId: WorkerId, batch: DispatchBatch): void;
  /** `count` results of this worker are durable. */
  sendAck(workerId: WorkerId, count: number): void;
  sendCancel(workerId: WorkerId, leases: Lease[]): void;
  sendReject(
    workerId: WorkerId,
    lease: number,
    code: string,
    message: string,
  ): void;
  disconnect(workerId: WorkerId, code: number, reason: string): void;
  /** What the worker's volunteer has given (see standings.ts). */
  sendStanding?(workerId: WorkerId, standing: Standing): void;
}

/** The latest progress of an active lease, as the dashboard feed receives it. */
export interface LeaseProgress {
  lease: Lease;
  jobId: JobId;
  index: number;
  fraction: number;
}

export interface Clock {
  now(): number;
}

/** Counters for /metrics. */
export interface RuntimeCounters {
  recordedOk: number;
  recordedFailed: number;
  reassigned: number;
  /** Tasks credited to volunteers, and their busy milliseconds, by kind (since start). */
  creditedTasks: Record<WorkerKind, number>;
  creditedBusyMs: Record<WorkerKind, number>;
}
