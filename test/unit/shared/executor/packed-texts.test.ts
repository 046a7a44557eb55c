/**
 * Output texts packed into one string per thread message (packed-texts.ts): what the
 * host reads back is exactly what the thread wrote, in order, around cancelled tasks
 * and other outcomes; lengths a thread cannot back up fail their task only.
 */
import { describe, expect, test } from 'vitest';
import { Status, type ThreadOutcomes } from '../../../../shared/task-runner.js';
import { TaskExecutor } from '../../../../shared/executor/index.js';
import {
  TextReader,
  packTexts,
} from '../../../../shared/executor/packed-texts.js';
import { JsonText } from '../../../../shared/json-text.js';
import { lease } from '../../../helpers/ids.js';
import { endings, fakeClock, fakeSpawner, tasks } from './fakes.js';

const outcomes = (status: Status[], values: unknown[]): ThreadOutcomes => ({
  type: 'outcomes',
  leases: status.map((_, i) => lease(i + 1)),
  status,
  values,
});

describe('packTexts', () => {
  test('joins the json texts and leaves their lengths; other values stay as they are', () => {
    const message = packTexts(
      outcomes(
        [Status.json, Status.ok, Status.json, Status.error, Status.json],
        ['{"a":"é"}', 7, '[]', 'boom', '{"b":"\ud83d"}'],
      ),
    );
    expect(message.texts).toBe('{"a":"é"}[]{"b":"\ud83d"}');
    expect(message.values).toEqual([9, 7, 2, 'boom', 9]);
    const reader = new TextReader(message);
    expect([9, 2, 9].map((v) => reader.next(v))).toEqual([
      '{"a":"é"}',
      '[]',
      '{"b":"\ud83d"}',
    ]);
  });

  test('a message without texts is not touched', () => {
    const message = packTexts(outcomes([Status.ok], [1]));
    expect(message.texts).toBeUndefined();
    expect(new TextReader(message).next('as is')).toBe('as is');
  });

  test('lengths that are not whole, negative or past the end read as null', () => {
    const message = { ...outcomes([], []), texts: 'abcdef' };
    const reader = new TextReader(message);
    expect(reader.next(1.5)).toBeNull();
    expect(reader.next(-1)).toBeNull();
    expect(reader.next('2')).toBeNull();
    expect(reader.next(7)).toBeNull();
    expect(reader.next(2)).toBe('ab');
    expect(reader.next(4)).toBe('cdef');
    expect(reader.next(1)).toBeNull();
  });
});

describe('the executor reading packed outcomes', () => {
  /** An executor whose thread has answered tasks 1 and 2 (so that batches are full size). */
  function warm(count: number) {
    const pool = fakeSpawner();
    const { done, onDone } = endings();
    const executor = new TaskExecutor({
      threads: 1,
      spawn: pool.spawn,
      clock: fakeClock(),
    });
    executor.submit(tasks(count, 1), onDone);
    const thread = pool.threads[0]!;
    expect(thread.queue.map((t) => t.lease)).toEqual([1, 2]);
    thread.queue.length = 0;
    thread.send(
      packTexts({
        ...outcomes([Status.json, Status.json], ['{"a":1}', '{"b":2}']),
        busy: [0.001, 0.001],
      }),
    );
    expect(thread.queue.map((t) => t.lease)).toEqual(
      Array.from({ length: count - 2 }, (_, i) => i + 3),
    );
    return { thread, executor, done };
  }

  const leases = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => lease(from + i));

  test('each task gets its own text, a cancelled one in between included', () => {
    const { thread, executor, done } = warm(6);
    executor.cancel([lease(4)]);
    thread.send(
      packTexts({
        ...outcomes(
          [Status.json, Status.json, Status.ok, Status.json],
          ['{"c":3}', '{"cancelled":true}', 5, '[1,2]'],
        ),
        leases: leases(3, 4),
      }),
    );
    expect([1, 2, 3, 5, 6].map((l) => done.get(l))).toEqual([
      [{ ok: true, output: new JsonText('{"a":1}') }],
      [{ ok: true, output: new JsonText('{"b":2}') }],
      [{ ok: true, output: new JsonText('{"c":3}') }],
      [{ ok: true, output: 5 }],
      [{ ok: true, output: new JsonText('[1,2]') }],
    ]);
    expect(done.has(4)).toBe(false);
    expect(executor.pending).toBe(0);
  });

  test('a forged length fails its task; texts the thread did write are still checked', () => {
    const { thread, executor, done } = warm(5);
    thread.send({
      ...outcomes([Status.json, Status.json, Status.json], [5, 99, 3]),
      leases: leases(3, 3),
      texts: '1],"x{"a"',
    });
    const failed = {
      ok: false,
      error: 'the task thread sent an output that is not JSON text',
      kind: 'error',
    };
    // '1],"x' is no JSON value; 99 is past the end; '{"a' is cut short.
    expect([3, 4, 5].map((l) => done.get(l))).toEqual([
      [failed],
      [failed],
      [failed],
    ]);
    expect(executor.pending).toBe(0);
  });
});
