/**
 * Plain strings and numbers as branded ids, for tests only: the product brands ids where
 * they enter (protocol schemas, store reads, id generation); tests write `'j1'` and `3`
 * and brand them here, in one place.
 */
import type * as z from 'zod';
import type { JobId, Lease, WorkerId } from '../../shared/protocol.js';

export const jobId = (id: string): JobId => id as JobId;
export const workerId = (id: string): WorkerId => id as WorkerId;
export const lease = (n: number): Lease => n as Lease;

/** `T` with every branded id it accepts widened back to a plain string or number. */
export type Unbranded<T> = T extends string & z.$brand
  ? string
  : T extends number & z.$brand
    ? number
    : T extends Uint8Array | Date | RegExp
      ? T
      : T extends (...args: infer A) => infer R
        ? (...args: { [K in keyof A]: Unbranded<A[K]> }) => R
        : T extends ReadonlyMap<infer K, infer V>
          ? ReadonlyMap<Unbranded<K>, V>
          : T extends readonly (infer U)[]
            ? readonly Unbranded<U>[]
            : T extends object
              ? { [K in keyof T]: Unbranded<T[K]> }
              : T;

/** The same object, typed to accept plain ids where it wants branded ones. */
export const unbranded = <T>(value: T): Unbranded<T> =>
  value as unknown as Unbranded<T>;
