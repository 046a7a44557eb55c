/**
 * The master's start-up rehearsal runs whole jobs through throwaway masters (each with
 * its own SQLite store in a temporary directory, its own loopback port, in-process
 * workers): every task of its three jobs (numbers and records on the first master,
 * numbers again on the second) completes, nothing fails, and the directories are gone
 * after.
 */
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { MasterOptions } from '../../server/master/config.js';
import { buildMaster } from '../../server/master/main.js';
import { rehearseJobs } from '../../server/master/warm-up-job.js';

describe('master rehearsal', () => {
  test('all three jobs complete on the throwaway masters, whose directories are then removed', async () => {
    const dirs: string[] = [];
    const errors: unknown[] = [];
    const build = (options: MasterOptions) => {
      dirs.push(options.dataDir as string);
      return buildMaster(options);
    };
    const rehearsal = rehearseJobs(build, {}, (e) => errors.push(e), 400);
    expect(await rehearsal.done).toBe(400 + 100 + 400);
    expect(errors).toEqual([]);
    expect(dirs).toHaveLength(2);
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });

  test('stopped at once, it still closes its master and removes its directory', async () => {
    const dirs: string[] = [];
    const build = (options: MasterOptions) => {
      dirs.push(options.dataDir as string);
      return buildMaster(options);
    };
    const rehearsal = rehearseJobs(build, {}, () => undefined, 100_000);
    rehearsal.stop();
    expect(await rehearsal.done).toBeLessThan(100_000);
    expect(existsSync(dirs[0] as string)).toBe(false);
  });
});
