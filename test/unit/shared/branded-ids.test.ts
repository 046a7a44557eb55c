/**
 * Ids are branded: `tsc -p test` (npm run typecheck) fails if one kind of id can stand
 * where another is wanted, or a plain string or number where an id is wanted. Each
 * `@ts-expect-error` below is an error the compiler must report; the runtime checks show
 * that the brand costs nothing at run time and the schemas still bound what they brand.
 */
import { describe, expect, expectTypeOf, test } from 'vitest';
import { Scheduler } from '../../../server/master/scheduler/scheduler.js';
import {
  JobId,
  Lease,
  VolunteerId,
  WorkerId,
} from '../../../shared/protocol.js';

const wantsJob = (id: JobId): string => `job ${id}`;
const wantsWorker = (id: WorkerId): string => `worker ${id}`;
const wantsLease = (lease: Lease): number => lease + 1;

describe('branded ids', () => {
  test('one kind of id cannot stand where another is wanted', () => {
    const job = JobId.parse('7');
    const worker = WorkerId.parse('w1');
    const lease = Lease.parse(3);
    const volunteer = VolunteerId.parse('0123456789abcdef');

    // @ts-expect-error a WorkerId is no JobId
    wantsJob(worker);
    // @ts-expect-error a JobId is no WorkerId
    wantsWorker(job);
    // @ts-expect-error a VolunteerId is no WorkerId
    wantsWorker(volunteer);
    // @ts-expect-error a plain string is no JobId: ids are branded where they enter
    wantsJob('7');
    // @ts-expect-error a plain number is no Lease
    wantsLease(3);

    const scheduler = new Scheduler();
    // @ts-expect-error the scheduler's job lookup wants a JobId
    expect(scheduler.jobView(worker)).toBeUndefined();
    // @ts-expect-error ... and its worker lookup a WorkerId
    expect(scheduler.workerView(job)).toBeUndefined();

    expectTypeOf<WorkerId>().not.toExtend<JobId>();
    expectTypeOf<string>().not.toExtend<JobId>();
    expectTypeOf<number>().not.toExtend<Lease>();
    // A branded id is still a string or number wherever one is wanted (logs, JSON).
    expectTypeOf<JobId>().toExtend<string>();
    expectTypeOf<Lease>().toExtend<number>();

    expect(wantsJob(job)).toBe('job 7');
    expect(wantsWorker(worker)).toBe('worker w1');
    expect(wantsLease(lease)).toBe(4);
  });

  test('the brand is a no-op at run time; the schemas still bound what they brand', () => {
    expect(JobId.parse('7')).toBe('7');
    expect(Lease.parse(3)).toBe(3);
    expect(JobId.safeParse('').success).toBe(false);
    expect(JobId.safeParse('x'.repeat(65)).success).toBe(false);
    expect(WorkerId.safeParse(7).success).toBe(false);
    expect(Lease.safeParse(-1).success).toBe(false);
    expect(Lease.safeParse(1.5).success).toBe(false);
  });
});
