/**
 * The worker's start-up rehearsal runs a synthetic job through a throwaway session on
 * the executor it is given: every task is handed over once and answered, frames of
 * numbers and of records both come (each takes its own path in the session), and
 * once it resolves the executor holds nothing of it.
 */
import { describe, expect, test } from 'vitest';
import type { TaskBatch } from '../../../shared/protocol.js';
import {
  decodeWorkerBoundMessage,
  expandTasks,
} from '../../../shared/protocol.js';
import { recordTasks } from '../../../shared/tasks-text.js';
import type { Executor, Outcomes } from '../../../shared/worker-session.js';
import {
  REHEARSAL_MODULE,
  rehearsalFrame,
  rehearse,
} from '../../../server/worker/warm-up-session.js';

/** Answers every batch a moment later with its inputs as outputs. */
function echoExecutor() {
  const batches: TaskBatch[] = [];
  let pending = 0;
  let cancelAlls = 0;
  const executor: Executor = {
    slots: 2,
    get pending() {
      return pending;
    },
    submit(batch: TaskBatch, onDone: (outcomes: Outcomes) => void) {
      batches.push(batch);
      pending += batch.leases.length;
      setImmediate(() => {
        pending -= batch.leases.length;
        onDone({
          leases: batch.leases,
          outputs: batch.inputs,
          failures: [],
          busyMs: batch.leases.map(() => 0.001),
        });
      });
    },
    cancel: () => undefined,
    cancelAll: () => {
      cancelAlls++;
    },
  };
  return { executor, batches, cancelAlls: () => cancelAlls };
}

describe('worker rehearsal', () => {
  test('its frames decode as the master’s do, records through the text path', () => {
    const numbers = decodeWorkerBoundMessage(rehearsalFrame(1e15, 0, 3, false));
    expect(numbers.ok).toBe(true);
    if (!numbers.ok || numbers.value.type !== 'tasks') return;
    const [batch] = expandTasks(numbers.value);
    expect(batch?.leases).toEqual([1e15, 1e15 + 1, 1e15 + 2]);
    expect(batch?.inputs).toEqual([0, 1, 2]);
    expect(batch?.module).toBe(REHEARSAL_MODULE);
    const records = recordTasks(rehearsalFrame(1e15, 5, 2, true));
    expect(records?.[0]?.leases).toHaveLength(2);
  });

  test('every task is handed over once and answered; the session is then closed', async () => {
    const { executor, batches, cancelAlls } = echoExecutor();
    const answered = await rehearse(executor, 3_000);
    expect(answered).toBe(3_000);
    const leases = batches.flatMap((batch) => batch.leases);
    expect(new Set(leases).size).toBe(3_000);
    // Leases as the master issues them: not small integers.
    expect(Math.min(...leases)).toBeGreaterThan(2 ** 31);
    const inputKinds = new Set(batches.map((batch) => typeof batch.inputs[0]));
    expect(inputKinds.size).toBe(2);
    expect(executor.pending).toBe(0);
    // The close is delivered before it resolves (the session then cancels all).
    expect(cancelAlls()).toBeGreaterThan(0);
  });
});
