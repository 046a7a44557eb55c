/**
 * Readers of a job's results and end are woken once the commit that holds them is
 * done, each job named once per commit, whatever the events between.
 */
import { describe, expect, test } from 'vitest';
import { AfterCommit } from '../../../server/master/after-commit.js';
import type { Store } from '../../../server/master/store/store.js';
import { createLogger } from '../../../server/log.js';
import { jobId } from '../../helpers/ids.js';

/** A store whose commits end when the test says (one commit shared until then). */
function commits() {
  let current: { promise: Promise<void>; resolve: () => void } | undefined;
  const store = {
    commit(): Promise<void> {
      if (current === undefined) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        current = { promise, resolve };
      }
      return current.promise;
    },
  } as unknown as Store;
  const end = async () => {
    const done = current;
    current = undefined;
    done?.resolve();
    // The wake-up goes out on the turn after the commit.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };
  return { store, end };
}

describe('AfterCommit', () => {
  test('each commit wakes the readers of the jobs it holds, once each', async () => {
    const { store, end } = commits();
    const woken: { results: string[]; finished: string[] }[] = [];
    const after = new AfterCommit({
      store,
      logger: createLogger('test', 'silent'),
      ack: () => undefined,
      committed: (results, finished) =>
        woken.push({ results: [...results], finished: [...finished] }),
    });
    const [a, b, c] = [jobId('a'), jobId('b'), jobId('c')];
    // One event of job a, then one of a and b, then one where c ends: one commit.
    after.recorded(a);
    after.commitAndNotify();
    after.recorded(a);
    after.recorded(b);
    after.recorded(a);
    after.commitAndNotify();
    after.recorded(c);
    after.finished(c);
    after.commitAndNotify();
    expect(woken).toEqual([]);
    await end();
    expect(woken).toEqual([{ results: ['a', 'b', 'c'], finished: ['c'] }]);
    // The next commit holds only what came after.
    after.recorded(b);
    after.commitAndNotify();
    after.commitAndNotify();
    await end();
    expect(woken.at(-1)).toEqual({ results: ['b'], finished: [] });
    // Nothing recorded: no commit, no wake-up.
    after.commitAndNotify();
    await end();
    expect(woken).toHaveLength(2);
  });
});
