/**
 * Text `tasks` frames written as UTF-8 bytes: what a worker decodes is the stored
 * inputs, whatever their characters, and however far they are from the ASCII size the
 * frame's buffer is first sized for.
 */
import { describe, expect, test } from 'vitest';
import {
  decodeWorkerBoundMessage,
  expandTasks,
  type Tasks,
} from '../../../shared/protocol.js';
import { encodeTasksFrame } from '../../../server/master/task-frames.js';
import type { Assignment } from '../../../server/master/scheduler/types.js';
import { jobId as asJobId, lease as asLease } from '../../helpers/ids.js';

const JOBS = new Map([
  [asJobId('a'), { name: 'Ä ✓', moduleHash: 'a'.repeat(64), timeoutMs: 1_000 }],
  [asJobId('b'), { name: 'B', moduleHash: 'b'.repeat(64), timeoutMs: 1_000 }],
]);

const task = (jobId: string, index: number, lease: number): Assignment => ({
  jobId: asJobId(jobId),
  index,
  lease: asLease(lease),
  attempt: 1,
});

function decodeText(data: string | Uint8Array) {
  const text =
    typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const decoded = decodeWorkerBoundMessage(text);
  if (!decoded.ok) throw new Error(decoded.error);
  return expandTasks(decoded.value as Tasks);
}

describe('text tasks frames as bytes', () => {
  test('ASCII, multi-byte and long inputs all arrive as they were stored', () => {
    const values = [
      { id: 'plain', x: 1 },
      'é😀✓'.repeat(2_000),
      { text: '中'.repeat(50_000) },
      [null, true, -1.5e300],
    ];
    const tasks = values.map((_, i) => task(i % 2 ? 'b' : 'a', i, 100 + i));
    const { data, binary } = encodeTasksFrame(
      tasks,
      values.map((v) => JSON.stringify(v)),
      JOBS,
    );
    expect(binary).toBe(false);
    expect(data).toBeInstanceOf(Uint8Array);
    const [a, b] = decodeText(data);
    expect(a).toMatchObject({ job: 'a', leases: [100, 102], indexes: [0, 2] });
    expect(a?.inputs).toEqual([values[0], values[2]]);
    expect(b).toMatchObject({ job: 'b', leases: [101, 103], indexes: [1, 3] });
    expect(b?.inputs).toEqual([values[1], values[3]]);
  });

  test('many small inputs in one frame, in task order', () => {
    const count = 5_000;
    const tasks = Array.from({ length: count }, (_, i) => task('a', i, i + 1));
    const inputs = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ id: `task-${i}`, s: i % 7 === 0 ? 'ü' : 'u' }),
    );
    const { data } = encodeTasksFrame(tasks, inputs, JOBS);
    const [group] = decodeText(data);
    expect(group?.inputs).toEqual(inputs.map((t) => JSON.parse(t) as unknown));
    expect(group?.leases).toEqual(tasks.map((t) => t.lease));
  });

  test('a small frame stays a string, decoded the same', () => {
    const inputs = ['{"a":"ü"}', '2', '"x"'];
    const tasks = inputs.map((_, i) => task('a', i, i + 1));
    const { data, binary } = encodeTasksFrame(tasks, inputs, JOBS);
    expect(binary).toBe(false);
    expect(typeof data).toBe('string');
    expect(decodeText(data)[0]?.inputs).toEqual([{ a: 'ü' }, 2, 'x']);
  });
});

describe('tasks frames of joined inputs', () => {
  test('the same frame as from the inputs one by one, small or big, any characters', () => {
    for (const count of [3, 5_000]) {
      const tasks = Array.from({ length: count }, (_, i) =>
        task('a', i * 3, i + 7),
      );
      const inputs = Array.from({ length: count }, (_, i) =>
        JSON.stringify({ id: `task-${i}`, s: i % 7 === 0 ? 'ü中😀' : 'u' }),
      );
      const one = encodeTasksFrame(tasks, inputs, JOBS);
      const joined = encodeTasksFrame(
        tasks,
        [],
        JOBS,
        undefined,
        inputs.join(','),
      );
      expect(joined.binary).toBe(false);
      expect(typeof joined.data).toBe(count === 3 ? 'string' : 'object');
      expect(Buffer.from(joined.data).equals(Buffer.from(one.data))).toBe(true);
      const [group] = decodeText(joined.data);
      expect(group?.inputs).toEqual(
        inputs.map((t) => JSON.parse(t) as unknown),
      );
      expect(group?.indexes).toEqual(tasks.map((t) => t.index));
    }
  });

  test('frames of one job after another each name their own job and its facts', () => {
    // Each job alone in its batch, as dispatch gives them; the frame head is kept
    // from one frame to the next, and must follow the job and its facts.
    const only = (id: string, name: string, timeoutMs = 1_000) =>
      new Map([[asJobId(id), { name, moduleHash: id.repeat(64), timeoutMs }]]);
    const batches = [
      only('a', 'first'),
      only('a', 'first'),
      only('b', 'second'),
      only('a', 'first'),
      only('a', 'renamed'),
      only('a', 'renamed', 2_000),
    ];
    batches.forEach((jobs, k) => {
      const id = String([...jobs.keys()][0]);
      const tasks = [task(id, k, 100 + k)];
      const inputs = [JSON.stringify({ k })];
      const joined = encodeTasksFrame(tasks, [], jobs, undefined, inputs[0]);
      expect(joined.data).toBe(encodeTasksFrame(tasks, inputs, jobs).data);
    });
  });
});
