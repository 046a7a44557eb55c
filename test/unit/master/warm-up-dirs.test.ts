/**
 * Rehearsal directories left by masters that died mid-rehearsal are removed at the next
 * start; those of running masters, recent ones and anything else in the directory stay.
 */
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  existsSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  STALE_MS,
  makeRehearsalDir,
  removeStaleRehearsalDirs,
} from '../../../server/master/warm-up-dirs.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'colony-test-tmp-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory `name` in tmp, last changed `ageMs` before `now`, with a file in it. */
function dir(name: string, now: number, ageMs: number): string {
  const full = path.join(tmp, name);
  mkdirSync(full);
  mkdirSync(path.join(full, 'inside'));
  const at = (now - ageMs) / 1000;
  utimesSync(full, at, at);
  return full;
}

describe('rehearsal directories', () => {
  test('a new one is named after this process', () => {
    const made = makeRehearsalDir(tmp);
    expect(path.basename(made)).toMatch(
      new RegExp(`^colony-warm-up-${process.pid}-`),
    );
    expect(existsSync(made)).toBe(true);
  });

  test('old ones of processes that are gone (or unnamed) are removed; the rest stay', () => {
    const now = Date.now();
    const old = STALE_MS + 60_000;
    const dead = dir('colony-warm-up-4000001-abc', now, old);
    const unnamed = dir('colony-warm-up-Xy12Zq', now, old);
    const running = dir('colony-warm-up-4000002-abc', now, old);
    const mine = dir(`colony-warm-up-${process.pid}-abc`, now, old);
    const recent = dir('colony-warm-up-4000003-abc', now, 1_000);
    const other = dir('someone-else-4000001', now, old);
    const exists = (pid: number) => pid === 4000002;
    expect(removeStaleRehearsalDirs(tmp, now, exists).sort()).toEqual(
      [dead, unnamed].sort(),
    );
    for (const gone of [dead, unnamed]) expect(existsSync(gone)).toBe(false);
    for (const kept of [running, mine, recent, other])
      expect(existsSync(kept)).toBe(true);
  });

  test('without an injected check, a pid no process has counts as gone', () => {
    const now = Date.now();
    // Above Linux's largest pid (2^22): no process has it.
    const dead = dir('colony-warm-up-99999999-abc', now, STALE_MS + 1);
    const alive = dir(`colony-warm-up-${process.ppid}-abc`, now, STALE_MS + 1);
    expect(removeStaleRehearsalDirs(tmp, now)).toEqual([dead]);
    expect(existsSync(alive)).toBe(true);
  });
});
