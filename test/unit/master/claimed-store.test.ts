/**
 * The runtime's store in cluster mode (cluster/claimed-store.ts): checkpoints live with
 * the claim on this master, and the volunteers' totals are this master's own, applied
 * at commit as the memory store does.
 */
import { describe, expect, test } from 'vitest';
import { ClaimedStore } from '../../../server/master/cluster/claimed-store.js';
import { RecordQueue } from '../../../server/master/cluster/record-queue.js';
import type {
  ClusterStore,
  RecordEntry,
} from '../../../server/master/store/postgres/cluster-store.js';
import { jobId } from '../../helpers/ids.js';

/** A claimed store over a record queue whose database accepts every entry. */
function claimedStore(): { store: ClaimedStore; written: RecordEntry[] } {
  const written: RecordEntry[] = [];
  // Only recordBatch is called by the queue: the rest of the interface is not needed.
  const database = {
    recordBatch: (_master: string, entries: readonly RecordEntry[]) => {
      written.push(...entries);
      return Promise.resolve({
        accepted: entries.map(() => true),
        completed: [],
      });
    },
  } as unknown as ClusterStore;
  const records = new RecordQueue({
    store: database,
    master: 'm1',
    onResult: () => undefined,
    onError: () => undefined,
  });
  return { store: new ClaimedStore(records), written };
}

const j = jobId('j1');
const hold = (store: ClaimedStore, index: number, token = 7) =>
  store.hold({
    jobId: j,
    index,
    token,
    input: `${index}`,
    attempts: 0,
    deaths: 0,
    votes: null,
  });

describe('ClaimedStore', () => {
  test('a checkpoint is kept while the claim is held, and goes with it', () => {
    const { store } = claimedStore();
    hold(store, 0);
    hold(store, 1);
    store.putCheckpoint(j, 0, '"a"');
    store.putCheckpoint(j, 1, new Uint8Array([1, 2]));
    expect(store.getCheckpoints(j, [1, 0, 2])).toEqual([
      new Uint8Array([1, 2]),
      '"a"',
      undefined,
    ]);
    // The claim of 0 is taken over: its checkpoint is no use here any more.
    expect(store.drop(j, [0])).toEqual([0]);
    expect(store.getCheckpoints(j, [0, 1])).toEqual([
      undefined,
      new Uint8Array([1, 2]),
    ]);
    store.dropCheckpoints(j, 1);
    expect(store.getCheckpoints(j, [1])).toEqual([undefined]);
  });

  test('a checkpoint of a task not held here is not kept', () => {
    const { store } = claimedStore();
    store.putCheckpoint(j, 3, '"x"');
    expect(store.getCheckpoints(j, [3])).toEqual([undefined]);
  });

  test('recording a result drops the claim and its checkpoint; the entry is fenced by the token', async () => {
    const { store, written } = claimedStore();
    hold(store, 0, 42);
    store.putCheckpoint(j, 0, '"half"');
    store.recordResult(j, 0, { ok: true, output: '1' });
    expect(store.held).toBe(0);
    expect(store.getCheckpoints(j, [0])).toEqual([undefined]);
    await store.commit();
    expect(written).toEqual([
      expect.objectContaining({ jobId: j, index: 0, token: 42 }),
    ]);
  });

  test('dropping every claim of a job drops every checkpoint of it', () => {
    const { store } = claimedStore();
    hold(store, 0);
    hold(store, 1);
    store.putCheckpoint(j, 0, '"a"');
    store.putCheckpoint(j, 1, '"b"');
    expect(store.drop(j).sort()).toEqual([0, 1]);
    expect(store.getCheckpoints(j, [0, 1])).toEqual([undefined, undefined]);
  });

  test("the volunteers' totals are this master's, visible after commit", async () => {
    const { store } = claimedStore();
    store.volunteers.seen({ id: 'v1', name: 'one', kind: 'node' }, 10);
    store.volunteers.credit(
      [{ volunteer: 'v1', kind: 'node', name: 'one', tasks: 1, busyMs: 5 }],
      11,
    );
    expect(store.volunteers.standing('v1').tasks).toBe(0);
    await store.commit();
    expect(store.volunteers.standing('v1')).toMatchObject({
      tasks: 1,
      busyMs: 5,
      rank: 1,
    });
  });
});
