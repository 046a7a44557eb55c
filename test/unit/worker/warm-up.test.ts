/**
 * The worker's warm-up runs the real hot paths on synthetic data: its tasks frame must
 * take the same fast path as the master's frames (not the zod fallback), every frame it
 * pushes through the sandbox pipe's framing must come out, and the thread's throwaway
 * runner must run every task of its trivial module.
 */
import { describe, expect, test } from 'vitest';
import { isTasks } from '../../../shared/protocol-fast.js';
import {
  decodeWorkerBoundMessage,
  expandTasks,
} from '../../../shared/protocol.js';
import {
  syntheticTasksFrame,
  warmCodecs,
} from '../../../server/worker/warm-up.js';
import { warmUpThread } from '../../../server/worker/warm-up-thread.js';

describe('worker warm-up', () => {
  test('the synthetic tasks frame passes the fast check and decodes whole', () => {
    const text = syntheticTasksFrame(300);
    expect(isTasks(JSON.parse(text) as Record<string, unknown>)).toBe(true);
    const decoded = decodeWorkerBoundMessage(text);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok || decoded.value.type !== 'tasks') return;
    const [batch] = expandTasks(decoded.value);
    expect(batch?.leases).toHaveLength(300);
    expect(batch?.inputs[1]).toEqual({ id: 'w1', x: 1 });
  });

  test('every frame written through the pipe framing is read back', () => {
    // Two frames a round: the batch going to the child, the outcomes coming back.
    expect(warmCodecs(3)).toBe(6);
  });

  test('the thread warm-up runs every task of its built-in module', async () => {
    const outcomes = await new Promise<number>((resolve) =>
      warmUpThread(3, resolve),
    );
    expect(outcomes).toBe(3 * 256);
  });
});
