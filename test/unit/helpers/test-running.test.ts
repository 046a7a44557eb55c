/** Helpers that start processes refuse to once their test has ended (so none outlives the run). */
import { describe, expect, onTestFinished, test } from 'vitest';
import { spawnWorker, startTestMaster } from '../../helpers/master.js';
import { assertTestRunning } from '../../helpers/test-running.js';

describe('processes started by a test', () => {
  test('may be started while its body runs, not from its finish hooks', async () => {
    expect(() => assertTestRunning('a worker')).not.toThrow();
    // As a body that runs on past its timeout would, while the hooks run.
    onTestFinished(async () => {
      expect(() => spawnWorker('http://127.0.0.1:1')).toThrow(
        /colony worker: its test has ended/,
      );
      await expect(startTestMaster()).rejects.toThrow(/its test has ended/);
    });
  });
});
