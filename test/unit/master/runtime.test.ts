/**
 * The runtime is the one owner of "after commit" and hands the socket layer finished
 * batches: an assignment reaches the link with its stored inputs and job facts; results
 * are acked once per commit, only after it; progress passes only for a held lease.
 * A real SQLite store in a temporary directory; the link records what it is given.
 */
import { describe, expect, test } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { Runtime, type WorkerLink } from '../../../server/master/runtime.js';
import type {
  JobSpec,
  VolunteerId,
} from '../../../server/master/scheduler/types.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import type { DispatchBatch } from '../../../server/master/task-frames.js';
import { JobOptions } from '../../../shared/job.js';
import type { Lease } from '../../../shared/protocol.js';
import * as ids from '../../helpers/ids.js';
import { tempDir } from '../../helpers/master.js';

class RecordingLink implements WorkerLink {
  readonly tasks: { workerId: string; batch: DispatchBatch }[] = [];
  readonly acks: { workerId: string; count: number }[] = [];
  /** Cancels, rejections and disconnects, by kind. */
  readonly others: string[] = [];
  sendTasks(workerId: string, batch: DispatchBatch): void {
    this.tasks.push({ workerId, batch });
  }
  sendAck(workerId: string, count: number): void {
    this.acks.push({ workerId, count });
  }
  sendCancel(): void {
    this.others.push('cancel');
  }
  sendReject(): void {
    this.others.push('reject');
  }
  disconnect(): void {
    this.others.push('disconnect');
  }
}

function setup() {
  const store = new SqliteStore({ dir: tempDir() });
  const runtime = new Runtime({
    store,
    clock: { now: () => 1_000 },
    logger: createLogger('test', 'silent'),
  });
  const link = new RecordingLink();
  runtime.attach(link);
  const spec: JobSpec = {
    id: ids.jobId('j'),
    name: 'squares',
    moduleHash: 'a'.repeat(64),
    options: JobOptions.parse({}),
    taskCount: 2,
    sealed: true,
    createdAt: 0,
  };
  store.createJob(spec, ['{"x":1}', '{"x":2}']);
  runtime.dispatch({ type: 'job-submitted', job: spec, at: 1 });
  for (const workerId of [ids.workerId('w1'), ids.workerId('w2')]) {
    runtime.dispatch({
      type: 'worker-joined',
      workerId,
      kind: 'node',
      name: workerId,
      slots: 1,
      at: 1,
    });
  }
  runtime.dispatch({
    type: 'credit-granted',
    workerId: ids.workerId('w1'),
    credit: 2,
    at: 1,
  });
  const close = () => {
    runtime.close();
    store.close();
  };
  return { runtime, store, link, spec, close };
}

describe('runtime', () => {
  test('an assignment reaches the link with its stored inputs and job facts', () => {
    const { link, spec, close } = setup();
    try {
      expect(link.tasks).toHaveLength(1);
      const [{ workerId, batch }] = link.tasks as [(typeof link.tasks)[0]];
      expect(workerId).toBe('w1');
      expect(batch.tasks.map((task) => task.index)).toEqual([0, 1]);
      // The SQLite store gives a batch's texts joined, spliced into the frame as such.
      expect(batch.joined).toBe('{"x":1},{"x":2}');
      expect(batch.inputs).toEqual([]);
      expect(batch.jobs.get(ids.jobId('j'))).toEqual({
        name: 'squares',
        moduleHash: spec.moduleHash,
        timeoutMs: spec.options.timeoutMs,
      });
    } finally {
      close();
    }
  });

  test('results of one turn get one ack, on the turn after the commit, counting them all', async () => {
    const { runtime, store, link, close } = setup();
    try {
      const leases = link.tasks[0]?.batch.tasks.map((task) => task.lease) ?? [];
      runtime.receiveResults(
        ids.workerId('w1'),
        { type: 'results', leases: [leases[0] as Lease], outputs: [1] },
        false,
      );
      runtime.receiveResults(
        ids.workerId('w1'),
        {
          type: 'results',
          leases: [],
          outputs: [],
          failures: [{ lease: leases[1] as Lease, error: 'no', kind: 'error' }],
        },
        false,
      );
      expect(link.acks).toEqual([]);
      await store.commit();
      // Sent on the turn after the commit, once I/O that came during it is handled.
      expect(link.acks).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(link.acks).toEqual([{ workerId: 'w1', count: 2 }]);
      expect(store.readResults(ids.jobId('j'), 0, 10)).toHaveLength(1);
      expect(link.others).toEqual([]);
    } finally {
      close();
    }
  });

  test('progress is passed on only for a lease its sender holds', () => {
    const { runtime, link, close } = setup();
    try {
      const seen: unknown[] = [];
      runtime.on('progress', (progress) => seen.push(progress));
      const lease = link.tasks[0]?.batch.tasks[1]?.lease as Lease;
      runtime.receiveProgress(ids.workerId('w2'), lease, 0.5);
      runtime.receiveProgress(ids.workerId('w1'), ids.lease(123), 0.5);
      expect(seen).toEqual([]);
      runtime.receiveProgress(ids.workerId('w1'), lease, 0.5);
      expect(seen).toEqual([{ lease, jobId: 'j', index: 1, fraction: 0.5 }]);
    } finally {
      close();
    }
  });

  test("a batch's results reach the volunteer's totals and the counters with every task and its busy time, at the commit", async () => {
    const { runtime, store, link, close } = setup();
    try {
      const volunteer = ids.workerId('v3');
      runtime.dispatch({
        type: 'worker-joined',
        workerId: volunteer,
        kind: 'node',
        name: 'third',
        slots: 1,
        volunteer: 'vol-3' as VolunteerId,
        at: 1,
      });
      // w1 holds both tasks: it leaves, and they go to the volunteer's worker.
      runtime.dispatch({
        type: 'worker-left',
        workerId: ids.workerId('w1'),
        clean: true,
        at: 2,
      });
      runtime.dispatch({
        type: 'credit-granted',
        workerId: volunteer,
        credit: 2,
        at: 2,
      });
      const batch = link.tasks.find((t) => t.workerId === volunteer)?.batch;
      expect(batch?.tasks).toHaveLength(2);
      runtime.receiveResults(
        volunteer,
        {
          type: 'results',
          leases: batch?.tasks.map((t) => t.lease) ?? [],
          outputs: [1, 4],
          busyMs: [0.25, 0.5],
        },
        false,
      );
      expect(runtime.counters.creditedTasks).toEqual({ node: 2, browser: 0 });
      expect(runtime.counters.creditedBusyMs.node).toBe(0.75);
      expect(store.volunteers.standing('vol-3').tasks).toBe(0);
      await store.commit();
      expect(store.volunteers.standing('vol-3')).toMatchObject({
        tasks: 2,
        busyMs: 0.75,
        rank: 1,
      });
    } finally {
      close();
    }
  });
});
