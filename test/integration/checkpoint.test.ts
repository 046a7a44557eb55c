/**
 * Checkpoints with real processes: a long task checkpoints as it goes, its `colony
 * worker` is killed with kill -9 near the end, and a worker started afterwards resumes
 * it from the last checkpoint the master kept (the task returns the step it started
 * from). Node threads and both sandboxes (bwrap, permission) take part.
 */
import { describe, expect, test } from 'vitest';
import type { FeedEvent } from '../../shared/protocol.js';
import type { LeaseProgress } from '../../server/master/runtime.js';
import { decodeStored } from '../../server/master/store/value-codec.js';
import { jobId } from '../helpers/ids.js';
import {
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
} from '../helpers/master.js';

const STEPS = 40;
const STEP_MS = 100;
const KILL_AT = 0.8;
/** 0 + 1 + … + (STEPS - 1): the same however often the task was interrupted. */
const SUM = (STEPS * (STEPS - 1)) / 2;

interface StepsOutput {
  from: number;
  sum: number;
  attempt: number;
}

describe('checkpoints', () => {
  for (const [first, second] of [
    ['none', 'bwrap'],
    ['permission', 'none'],
    ['bwrap', 'permission'],
  ] as const) {
    test(`a task killed at 80% on a worker (--sandbox ${first}) resumes from its checkpoint on another (--sandbox ${second})`, async () => {
      const master = await startTestMaster();
      const { runtime } = master;
      const module = await fixtureModule('steps.mjs');
      const victim = spawnWorker(master.url, 1, ['--sandbox', first]);
      const { id: submitted } = await master.client.submit({
        name: 'long task',
        module,
        inputs: [{ steps: STEPS, stepMs: STEP_MS }],
      });
      const id = jobId(submitted);
      // Near the end of the task (its progress says so), kill its worker: at 80%, so
      // that the task cannot finish (400 ms later) before the kill, even under load.
      await new Promise<void>((resolve) => {
        const onProgress = (p: LeaseProgress) => {
          if (p.jobId !== id || p.fraction < KILL_AT) return;
          runtime.off('progress', onProgress);
          resolve();
        };
        runtime.on('progress', onProgress);
      });
      const kept = runtime.scheduler.jobView(id)?.checkpoints;
      expect(kept?.tasks).toBe(1);
      victim.child.kill('SIGKILL');
      await victim.exited;

      // The state the next attempt gets: the latest the master kept, read as it resumes.
      const resumedFrom = new Promise<number>((resolve) => {
        const onFeed = (event: FeedEvent) => {
          if (event.kind !== 'resumed') return;
          runtime.off('feed', onFeed);
          const [stored] = runtime.store.getCheckpoints(id, [0]);
          resolve((decodeStored(stored as string) as { step: number }).step);
        };
        runtime.on('feed', onFeed);
      });
      const rescuer = spawnWorker(master.url, 1, ['--sandbox', second]);
      const results = await collectResults(master.client, id);
      const step = await resumedFrom;
      const line = results.get(0);
      expect(line).toMatchObject({ ok: true });
      const output = (line as { output: StepsOutput }).output;
      expect(output).toEqual({ from: step, sum: SUM, attempt: 2 });
      // Checkpoints go at most a second apart (10 steps here), the kill came at 80%.
      expect(output.from).toBeGreaterThanOrEqual(STEPS * KILL_AT - 10 - 1);
      expect(output.from).toBeLessThan(STEPS);
      expect(rescuer.stderr()).toContain(
        second === 'none' ? 'sandbox: none' : `sandbox: ${second}`,
      );
      // Recorded: the checkpoint is gone from the store and from the job's count.
      expect(runtime.store.getCheckpoints(id, [0])).toEqual([undefined]);
      const job = await master.client.job(id);
      expect(job.checkpoints).toEqual({ tasks: 0, resumed: 1 });
    });
  }
});
