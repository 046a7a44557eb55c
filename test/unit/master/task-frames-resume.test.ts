/**
 * The `resume` column of a `tasks` frame, from the stored checkpoints to what a worker
 * decodes: JSON text and bytes alike, each at its task's place in its job's group.
 */
import { describe, expect, test } from 'vitest';
import {
  decodeWorkerBoundMessage,
  expandTasks,
  type Tasks,
} from '../../../shared/protocol.js';
import { buildTasksFrame } from '../../../server/master/task-frames.js';
import { encodeStored } from '../../../server/master/store/value-codec.js';
import type { Assignment } from '../../../server/master/scheduler/types.js';
import { jobId as asJobId, lease as asLease } from '../../helpers/ids.js';

const JOBS = new Map([
  [asJobId('a'), { name: 'A', moduleHash: 'a'.repeat(64), timeoutMs: 1_000 }],
  [asJobId('b'), { name: 'B', moduleHash: 'b'.repeat(64), timeoutMs: 1_000 }],
]);

const task = (jobId: string, index: number, lease: number): Assignment => ({
  jobId: asJobId(jobId),
  index,
  lease: asLease(lease),
  attempt: 2,
});

function decode(frame: string | Uint8Array) {
  const decoded = decodeWorkerBoundMessage(frame);
  if (!decoded.ok) throw new Error(decoded.error);
  return expandTasks(decoded.value as Tasks);
}

describe('tasks frames with checkpoints to resume from', () => {
  test('text and bytes reach their tasks, group by group', () => {
    const tasks = [task('a', 0, 1), task('b', 5, 2), task('a', 1, 3)];
    const frame = buildTasksFrame(
      tasks,
      ['10', '11', '12'],
      JOBS,
      new Map([
        [1, '{"step":7}'],
        [2, encodeStored({ bytes: Uint8Array.of(1, 2, 3) })],
      ]),
    );
    // Bytes in a state make it a binary frame, with no base64 on the way.
    expect(frame).toBeInstanceOf(Uint8Array);
    const [a, b] = decode(frame);
    expect(a).toMatchObject({ job: 'a', leases: [1, 3], inputs: [10, 12] });
    expect(a?.resumes).toEqual([undefined, { bytes: Uint8Array.of(1, 2, 3) }]);
    expect(b).toMatchObject({ job: 'b', leases: [2], resumes: [{ step: 7 }] });
  });

  test('a frame without any stays on the text path with no resume key', () => {
    const frame = buildTasksFrame([task('a', 0, 1)], ['10'], JOBS);
    expect(typeof frame).toBe('string');
    expect(frame).not.toContain('resume');
    expect(decode(frame)[0]).not.toHaveProperty('resumes');
  });
});
