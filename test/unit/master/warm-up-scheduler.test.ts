/**
 * The master's warm-up runs a synthetic job through a throwaway scheduler to the end:
 * every task is assigned (and written as a `tasks` frame) and answered exactly once.
 */
import { describe, expect, test } from 'vitest';
import { warmScheduler } from '../../../server/master/warm-up-scheduler.js';

describe('scheduler warm-up', () => {
  test.each([1, 300, 4_096])(
    'a job of %i tasks is assigned and answered whole',
    (tasks) => {
      expect(warmScheduler(tasks)).toBe(tasks);
    },
  );
});
