/**
 * A guard for helpers that start processes. vitest cannot stop a test body that runs on
 * past its timeout: a process it started while the test's finish hooks ran, or after,
 * would be killed by nobody and outlive the whole run (a worker retrying a master long
 * gone, with the vitest process that started it gone too).
 */
import { TestRunner } from 'vitest';

/** Throws unless a test's body is running (not its hooks, not after it ended). */
export function assertTestRunning(what: string): void {
  const test = TestRunner.getCurrentTest();
  if (test?.result?.state !== 'run')
    throw new Error(`${what}: its test has ended (timed out?)`);
}
