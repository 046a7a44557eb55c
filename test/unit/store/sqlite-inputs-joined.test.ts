/**
 * Inputs read for dispatch as one text (their JSON texts joined with ','), cut out of
 * chunk rows: the same inputs, in the same order, as read one by one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../../server/master/scheduler/types.js';
import { joinedTexts } from '../../../server/master/store/sqlite-chunk-cache.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import type { EncodedValue } from '../../../server/master/store/store.js';
import { jobId, unbranded, type Unbranded } from '../../helpers/ids.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-joined-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openStore(dir: string): Unbranded<SqliteStore> {
  const store = unbranded(new SqliteStore({ dir }));
  cleanups.push(() => store.close());
  return store;
}

function spec(id: string, taskCount: number, sealed = true): JobSpec {
  return {
    id: jobId(id),
    name: `job ${id}`,
    moduleHash: 'h1',
    options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
    taskCount,
    sealed,
    createdAt: 1_000,
  };
}

const record = (i: number): string =>
  JSON.stringify({ id: `task-${i}`, x: i, text: i % 9 === 0 ? 'é中' : 'abc' });

describe('getInputsJoined', () => {
  test('gives what getInputs gives, joined: runs across chunks, scattered, appended, reopened', () => {
    const dir = freshDir();
    // Some inputs alone in their row: a text with a raw '\n' between its tokens.
    const values = Array.from({ length: 1_000 }, (_, i) =>
      i % 170 === 9 ? `{"a":\n${i}}` : record(i),
    );
    const first = unbranded(new SqliteStore({ dir }));
    first.createJob(spec('a', 700, false), values.slice(0, 700));
    const asked = (store: typeof first, indices: number[]) =>
      expect(store.getInputsJoined('a', indices)).toBe(
        (store.getInputs('a', indices) as string[]).join(','),
      );
    asked(first, [699, 0, 255, 256]);
    first.appendInputs('a', 700, values.slice(700));
    for (let from = 0; from < 1_000; from += 300)
      asked(
        first,
        [...Array(300).keys()].map((k) => from + k).filter((i) => i < 1_000),
      );
    first.close();

    const second = openStore(dir);
    const all = [...values.keys()];
    expect(second.getInputsJoined('a', all)).toBe(values.join(','));
    const scattered = all.map((i) => (i * 389) % values.length);
    expect(second.getInputsJoined('a', scattered)).toBe(
      scattered.map((i) => values[i]).join(','),
    );
    // Runs one after another, as dispatch asks: each starts where the last stopped.
    for (let from = 0; from < values.length; from += 77) {
      const run = all.slice(from, from + 77);
      expect(second.getInputsJoined('a', run)).toBe(
        run.map((i) => values[i]).join(','),
      );
    }
    expect(() => second.getInputsJoined('a', [1_000])).toThrow(RangeError);
  });

  test('undefined when an asked input is bytes; text when none asked is', () => {
    const store = openStore(freshDir());
    const values: EncodedValue[] = Array.from({ length: 600 }, (_, i) =>
      i === 300 ? new Uint8Array([1, 2]) : record(i),
    );
    store.createJob(spec('b', values.length), values);
    expect(store.getInputsJoined('b', [299, 300, 301])).toBeUndefined();
    expect(store.getInputsJoined('b', [298, 299])).toBe(
      [values[298], values[299]].join(','),
    );
    expect(store.getInputsJoined('b', [301, 302])).toBe(
      [values[301], values[302]].join(','),
    );
  });

  test('a chunk row missing from the file is a RangeError, not a wrong input', () => {
    const dir = freshDir();
    unbranded(new SqliteStore({ dir })).createJob(
      spec('a', 1_000),
      Array.from({ length: 1_000 }, (_, i) => record(i)),
    );
    const db = new Database(path.join(dir, 'colony.db'));
    db.prepare('DELETE FROM inputs WHERE first = 256').run();
    db.close();
    const store = openStore(dir);
    expect(store.getInputsJoined('a', [255, 512])).toBe(
      `${record(255)},${record(512)}`,
    );
    expect(() => store.getInputsJoined('a', [300])).toThrow(RangeError);
    const across = [...Array(300).keys()].map((i) => 250 + i);
    expect(() => store.getInputsJoined('a', across)).toThrow(RangeError);
  });
});

describe('joinedTexts', () => {
  const chunk = (first: number, count: number, text?: string) => ({
    jid: 1,
    first,
    count,
    text:
      text ??
      Array.from({ length: count }, (_, i) => `"${first + i}"`).join('\n'),
  });

  test('cuts tasks out of a chunk, up to its end or the run last', () => {
    expect(joinedTexts(chunk(100, 5), 100, 104)).toEqual({
      joined: '"100","101","102","103","104"',
      next: 105,
    });
    expect(joinedTexts(chunk(100, 5), 102, 103)).toEqual({
      joined: '"102","103"',
      next: 104,
    });
    expect(joinedTexts(chunk(100, 5), 103, 900)).toEqual({
      joined: '"103","104"',
      next: 105,
    });
  });

  test('cuts from the same chunk object, one after another, back and ahead', () => {
    // The chunk notes where each cut stopped; a later cut starts there when it can,
    // and from the start when it lies before it.
    const kept = chunk(10, 6, '"a"\n{"b":1}\n"c"\n[2,3]\n"e"\n"f"');
    const cuts = [
      [10, 10],
      [11, 11],
      [12, 13],
      [11, 12],
      [14, 14],
      [15, 99],
      [10, 15],
      [13, 13],
    ] as const;
    const texts = ['"a"', '{"b":1}', '"c"', '[2,3]', '"e"', '"f"'];
    for (const [at, last] of cuts) {
      const end = Math.min(last, 15);
      expect(joinedTexts(kept, at, last)).toEqual({
        joined: texts.slice(at - 10, end - 9).join(','),
        next: end + 1,
      });
    }
  });

  test('a chunk that does not hold its count of texts is refused', () => {
    expect(() => joinedTexts(chunk(0, 5, '"a"\n"b"'), 0, 4)).toThrow(
      /does not hold 5 texts/,
    );
    expect(() => joinedTexts(chunk(0, 5, '"a"\n"b"'), 3, 4)).toThrow(
      /does not hold/,
    );
    expect(() => joinedTexts(chunk(0, 2, '"a"\n"b"\n"c"'), 1, 1)).toThrow(
      /does not hold/,
    );
  });
});

describe('a job purged, then a new one', () => {
  test('the new job reads its own inputs, none of the purged one kept in a cache', async () => {
    const store = openStore(freshDir());
    store.putModule('h1', 'export default (x) => x;');
    const texts = (tag: string) =>
      Array.from({ length: 600 }, (_, i) => JSON.stringify(`${tag}-${i}`));
    const old = texts('old');
    store.createJob(spec('1', 600), old);
    // Read partly, one run after another and scattered: the chunks are kept.
    expect(store.getInputsJoined('1', [0, 1, 2])).toBe(
      old.slice(0, 3).join(','),
    );
    expect(store.getInputs('1', [300, 301])).toEqual(old.slice(300, 302));
    await store.purgeJob(jobId('1'));
    const fresh = texts('new');
    store.createJob(spec('2', 600), fresh);
    expect(store.getInputsJoined('2', [3, 4, 5])).toBe(
      fresh.slice(3, 6).join(','),
    );
    expect(store.getInputs('2', [302, 303])).toEqual(fresh.slice(302, 304));
  });
});
