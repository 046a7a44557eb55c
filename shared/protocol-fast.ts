/**
 * Hot-path checks for the messages that carry tasks, results and acks: they accept
 * exactly what the zod schemas of shared/protocol.ts accept (a test checks both agree)
 * without copying every object; anything they do not accept goes through zod for its
 * error message. The bounds come from shared/protocol-base.ts, as the schemas' do.
 */
import { LIMITS, MAX_ID_LENGTH, MODULE_HASH_PATTERN } from './protocol-base.js';

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isLease = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const hasOnlyKeys = (v: Record<string, unknown>, count: number): boolean => {
  let n = 0;
  for (const key in v) if (Object.hasOwn(v, key)) n++;
  return n === count;
};

const isCount = (v: unknown, min: number): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** True if `v` (an object) is a valid `results` message (the hot path, without zod). */
export function isResultsMessage(v: Record<string, unknown>): boolean {
  return v.type === 'results' && isResults(v);
}

export function isResults(v: Record<string, unknown>): boolean {
  const { leases, outputs, failures, credit, busyMs } = v;
  const keys =
    3 +
    (failures === undefined ? 0 : 1) +
    (credit === undefined ? 0 : 1) +
    (busyMs === undefined ? 0 : 1);
  if (
    !hasOnlyKeys(v, keys) ||
    !Array.isArray(leases) ||
    !Array.isArray(outputs)
  )
    return false;
  if (
    credit !== undefined &&
    (!isCount(credit, 1) || credit > LIMITS.maxCredit)
  )
    return false;
  if (leases.length !== outputs.length || leases.length > LIMITS.maxBatch)
    return false;
  for (const lease of leases) if (!isLease(lease)) return false;
  if (busyMs !== undefined && !isBusyColumn(busyMs, leases.length))
    return false;
  let count = leases.length;
  if (failures !== undefined) {
    if (!Array.isArray(failures)) return false;
    count += failures.length;
    for (const f of failures) {
      if (!isObject(f) || !hasOnlyKeys(f, 3) || !isLease(f.lease)) return false;
      if (typeof f.error !== 'string' || f.error.length > LIMITS.maxErrorLength)
        return false;
      if (f.kind !== 'error' && f.kind !== 'crash') return false;
    }
  }
  return count >= 1 && count <= LIMITS.maxBatch;
}

function isBusyColumn(v: unknown, length: number): boolean {
  if (!Array.isArray(v) || v.length !== length) return false;
  for (const ms of v) {
    if (typeof ms !== 'number' || !(ms >= 0) || ms > LIMITS.maxBusyMs)
      return false;
  }
  return true;
}

function isJobWire(key: string, job: unknown): boolean {
  if (
    key.length < 1 ||
    key.length > MAX_ID_LENGTH ||
    !isObject(job) ||
    !hasOnlyKeys(job, 3)
  )
    return false;
  const { module, timeoutMs, name } = job;
  return (
    typeof module === 'string' &&
    MODULE_HASH_PATTERN.test(module) &&
    typeof name === 'string' &&
    isCount(timeoutMs, 1)
  );
}

export function isTasks(v: Record<string, unknown>): boolean {
  const { groups, jobs } = v;
  if (!hasOnlyKeys(v, 3) || !Array.isArray(groups) || !isObject(jobs))
    return false;
  if (groups.length < 1 || groups.length > LIMITS.maxBatch) return false;
  // zod's record drops a `__proto__` key that JSON.parse keeps: leave those to zod.
  if (Object.hasOwn(jobs, '__proto__')) return false;
  for (const key in jobs) if (!isJobWire(key, jobs[key])) return false;
  let total = 0;
  for (const g of groups) {
    if (!isObject(g) || !hasOnlyKeys(g, 5)) return false;
    const { job, leases, indexes, attempts, inputs } = g;
    if (typeof job !== 'string' || !Object.hasOwn(jobs, job)) return false;
    if (
      !Array.isArray(leases) ||
      !Array.isArray(indexes) ||
      !Array.isArray(attempts) ||
      !Array.isArray(inputs)
    )
      return false;
    const n = leases.length;
    if (n < 1 || n > LIMITS.maxBatch) return false;
    if (indexes.length !== n || attempts.length !== n || inputs.length !== n)
      return false;
    for (let i = 0; i < n; i++) {
      if (
        !isLease(leases[i]) ||
        !isLease(indexes[i]) ||
        !isCount(attempts[i], 1)
      )
        return false;
    }
    total += n;
  }
  return total <= LIMITS.maxBatch;
}

/** An `ack` (one follows every commit of a worker's results). */
export function isAck(v: Record<string, unknown>): boolean {
  return hasOnlyKeys(v, 2) && isCount(v.count, 1);
}
