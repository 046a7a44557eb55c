/** The hungry workers' list: a Set's order and membership, without a Set. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HungryWorkers } from '../../../server/master/scheduler/hungry.js';
import { WorkerRecord } from '../../../server/master/scheduler/records.js';
import { workerId } from '../../helpers/ids.js';

describe('HungryWorkers', () => {
  test('has the members, size and order a Set would, whatever the adds and deletes', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        // Fresh records each run: a record carries its place in the list.
        const workers = Array.from(
          { length: 6 },
          (_, k) => new WorkerRecord(workerId(`w${k}`), `w${k}`, 'node', 1, 0),
        );
        const list = new HungryWorkers();
        const set = new Set<WorkerRecord>();
        for (const [add, k] of ops) {
          const worker = workers[k]!;
          if (add) {
            list.add(worker);
            set.add(worker);
          } else {
            expect(list.delete(worker)).toBe(set.delete(worker));
          }
          expect(list.size).toBe(set.size);
          expect([...list]).toEqual([...set]);
          for (const each of workers)
            expect(list.has(each)).toBe(set.has(each));
        }
        for (const worker of workers) list.delete(worker);
        expect(list.size).toBe(0);
        expect([...list]).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
