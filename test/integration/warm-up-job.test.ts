/**
 * The master's start-up rehearsal runs whole jobs through throwaway masters (each with
 * its own SQLite store in a temporary directory, its own loopback port, in-process
 * workers): every task of its three jobs (numbers and records on the first master,
 * numbers again on the second) completes, nothing fails, and the directories are gone
 * after.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { MasterOptions } from '../../server/master/config.js';
import { buildMaster } from '../../server/master/main.js';
import { STALE_MS } from '../../server/master/warm-up-dirs.js';
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

  test('a start removes the directory a master killed mid-rehearsal left, and makes its own there', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'colony-test-tmp-'));
    const saved = process.env.TMPDIR;
    try {
      process.env.TMPDIR = tmp;
      // As a master killed with kill -9 leaves it: a store inside, its pid long gone.
      const left = path.join(tmp, 'colony-warm-up-99999999-Ab12Cd');
      mkdirSync(left);
      mkdirSync(path.join(left, 'colony.db-wal'));
      const then = (Date.now() - STALE_MS - 60_000) / 1000;
      utimesSync(left, then, then);
      const dirs: string[] = [];
      const build = (options: MasterOptions) => {
        dirs.push(options.dataDir as string);
        return buildMaster(options);
      };
      const rehearsal = rehearseJobs(build, {}, () => undefined, 100);
      expect(await rehearsal.done).toBe(100 + 25 + 100);
      expect(existsSync(left)).toBe(false);
      expect(dirs.every((dir) => path.dirname(dir) === tmp)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
