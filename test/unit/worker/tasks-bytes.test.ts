/** Large `tasks` frames of records decoded from their bytes, in runs of inputs. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { TaskBatch, Tasks } from '../../../shared/protocol.js';
import {
  BYTES_FRAME_MIN,
  decodeTasksBytes,
  mayBeRecordTasks,
} from '../../../server/worker/tasks-bytes.js';
import { masterFrame, plainBatches } from '../../helpers/task-frames.js';

/** A frame as the master builds it, as the worker gets it: its UTF-8 bytes. */
const masterBytes = (inputs: unknown[]): Buffer =>
  Buffer.from(masterFrame(inputs));

/** The batches of one job merged back into one, inputs parsed from their texts. */
function merged(batches: TaskBatch[], job: string) {
  const mine = batches.filter((b) => b.job === job);
  return {
    leases: mine.flatMap((b) => b.leases),
    indexes: mine.flatMap((b) => b.indexes),
    attempts: mine.flatMap((b) => b.attempts),
    inputs: mine.flatMap((b) =>
      (b.inputs as string[]).map((t) => JSON.parse(t) as unknown),
    ),
  };
}

const record = (i: number, text: string) => ({ id: `task-${i}`, x: i, text });

describe('tasks frames decoded from bytes', () => {
  test('give the tasks of the plain decoder, in runs whose span is their texts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        (extra, text) => {
          const inputs = [
            ...Array.from({ length: 700 }, (_, i) =>
              record(i, text + 'x'.repeat(100)),
            ),
            ...extra,
          ];
          const frame = masterBytes(inputs);
          expect(mayBeRecordTasks(frame)).toBe(true);
          const batches = decodeTasksBytes(frame);
          expect(batches).not.toBeNull();
          const got = batches as TaskBatch[];
          for (const batch of got) {
            expect(batch.inputsJson).toBe(true);
            expect(batch.inputsSpan).toBe((batch.inputs as string[]).join(','));
            expect(batch.inputs.length).toBe(batch.leases.length);
            // Every run but a lone large input stays well below a large string.
            if (batch.inputs.length > 1)
              expect(
                Buffer.byteLength(batch.inputsSpan as string),
              ).toBeLessThanOrEqual(48 * 1024);
          }
          for (const want of plainBatches(frame.toString('utf8'))) {
            const {
              leases,
              indexes,
              attempts,
              inputs: values,
            } = merged(got, want.job);
            expect({ leases, indexes, attempts, inputs: values }).toEqual({
              leases: want.leases,
              indexes: want.indexes,
              attempts: want.attempts,
              inputs: want.inputs,
            });
            const first = got.find((b) => b.job === want.job);
            expect(first?.module).toBe(want.module);
            expect(first?.name).toBe(want.name);
            expect(first?.timeoutMs).toBe(want.timeoutMs);
          }
        },
      ),
      { numRuns: 8 },
    );
  }, 60_000);

  test('small frames, spaced inputs, checkpoints and broken frames are left to the text decoders', () => {
    const inputs = Array.from({ length: 700 }, (_, i) =>
      record(i, 'y'.repeat(100)),
    );
    const frame = masterBytes(inputs);
    expect(mayBeRecordTasks(masterBytes(inputs.slice(0, 10)))).toBe(false);
    expect(frame.length).toBeGreaterThanOrEqual(BYTES_FRAME_MIN);
    const text = frame.toString('utf8');
    const spaced = Buffer.from(text.replace('},{', '}, {'));
    expect(decodeTasksBytes(spaced)).toBeNull();
    const message = JSON.parse(text) as Tasks;
    (message.groups[0] as { resume?: unknown }).resume = [{ at: 0, state: 1 }];
    expect(decodeTasksBytes(Buffer.from(JSON.stringify(message)))).toBeNull();
    expect(decodeTasksBytes(frame.subarray(0, frame.length - 3))).toBeNull();
    expect(
      decodeTasksBytes(Buffer.from(text.replace('"attempts"', '"tries"'))),
    ).toBeNull();
    expect(
      decodeTasksBytes(Buffer.concat([frame, Buffer.from('x')])),
    ).toBeNull();
  });
});
