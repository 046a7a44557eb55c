// SqliteStore against a real file: reopening, and a writer process killed with SIGKILL
// in the middle of its group commits ("accepted means durable", SPEC §4).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as esbuild from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../server/master/scheduler/types.js';
import { SqliteStore } from '../../server/master/store/sqlite-store.js';
import { jobId, unbranded, type Unbranded } from '../helpers/ids.js';

const require = createRequire(import.meta.url);
const WRITER_SOURCE = fileURLToPath(
  new URL('../fixtures/store-writer.ts', import.meta.url),
);

const dirs: string[] = [];
function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-durability-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function spec(id: string, taskCount: number, sealed = true): JobSpec {
  return {
    id: jobId(id),
    name: `job ${id}`,
    moduleHash: 'h1',
    options: { timeoutMs: 1_000, maxAttempts: 3, replicas: 2, priority: 7 },
    taskCount,
    sealed,
    createdAt: 123,
  };
}

describe('SqliteStore on disk', () => {
  const open: SqliteStore[] = [];
  afterEach(() => {
    for (const store of open.splice(0)) store.close();
  });
  function openStore(
    dir: string,
    fsync?: 'normal' | 'full',
  ): Unbranded<SqliteStore> {
    const store = new SqliteStore(fsync ? { dir, fsync } : { dir });
    open.push(store);
    return unbranded(store);
  }

  test('reopening keeps modules, jobs, inputs, results and end states', async () => {
    const dir = path.join(freshDir(), 'nested', 'data');
    const first = openStore(dir, 'full');
    first.putModule('h1', 'export default (x) => x;');
    first.createJob(spec('a', 3, false), ['0', '1', '2']);
    first.appendInputs('a', 3, [new Uint8Array([3, 3])]);
    first.sealJob('a');
    first.createJob(spec('b', 1), ['"b"']);
    first.recordResult('a', 0, { ok: true, output: '"zero"' });
    first.recordResult('a', 3, { ok: true, output: new Uint8Array([9]) });
    first.recordResult('a', 2, {
      ok: false,
      error: 'bad',
      code: 'E_TASK_KILLED_WORKERS',
    });
    first.finishJob('b', 'cancelled', 999);
    await first.commit();
    // Queued without a commit: close() must still write it.
    first.recordResult('a', 1, { ok: true, output: '"one"' });
    first.close();

    const second = openStore(dir);
    expect(second.getModule('h1')).toBe('export default (x) => x;');
    expect(second.getInputs('a', [3, 2, 1, 0])).toEqual([
      new Uint8Array([3, 3]),
      '2',
      '1',
      '0',
    ]);
    expect(second.loadJobs()).toEqual([
      {
        spec: spec('a', 4, true),
        state: 'running',
        finishedAt: null,
        marks: new Uint8Array([1, 1, 2, 1]),
        checkpointed: [],
      },
      {
        spec: spec('b', 1),
        state: 'cancelled',
        finishedAt: 999,
        marks: new Uint8Array([0]),
        checkpointed: [],
      },
    ]);
    const results = second.readResults('a', 0, 10);
    expect(results.map((r) => [r.index, r.outcome])).toEqual([
      [0, { ok: true, output: '"zero"' }],
      [3, { ok: true, output: new Uint8Array([9]) }],
      [2, { ok: false, error: 'bad', code: 'E_TASK_KILLED_WORKERS' }],
      [1, { ok: true, output: '"one"' }],
    ]);

    // seq keeps increasing across restarts, so a reader's cursor stays valid.
    second.recordResult('b', 0, { ok: true, output: '"late"' });
    await second.commit();
    const [late] = second.readResults('b', 0, 10);
    expect(late!.seq).toBeGreaterThan(results.at(-1)!.seq);
  });

  test('a failed group commit rejects its callers and writes none of it', async () => {
    const store = openStore(freshDir());
    store.createJob(spec('a', 3), ['0', '1', '2']);
    store.recordResult('a', 0, { ok: true, output: '"kept?"' });
    // A value SQLite cannot bind, smuggled past the types, makes the transaction throw.
    store.recordResult('a', 1, { ok: true, output: {} as never });
    const first = store.commit();
    const second = store.commit();
    await expect(first).rejects.toThrow();
    await expect(second).rejects.toThrow();
    expect(store.readResults('a', 0, 10)).toEqual([]);

    store.recordResult('a', 2, { ok: true, output: '"two"' });
    await store.commit();
    expect(store.readResults('a', 0, 10).map((r) => r.index)).toEqual([2]);
  });

  test('refuses a file of another schema version', () => {
    const dir = freshDir();
    openStore(dir).close();
    const db = new Database(path.join(dir, 'colony.db'));
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore({ dir })).toThrow(/schema version 99/);
  });
});

describe('SqliteStore under kill -9', () => {
  let writer: string;

  beforeAll(async () => {
    writer = path.join(freshDir(), 'store-writer.mjs');
    await esbuild.build({
      entryPoints: [WRITER_SOURCE],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: writer,
      logLevel: 'silent',
      plugins: [
        {
          // The bundle lives in a temp dir, where `better-sqlite3` would not resolve:
          // point package imports at their absolute paths in this repo instead.
          name: 'absolute-packages',
          setup(build) {
            build.onResolve({ filter: /^[^./]/ }, (args) => ({
              path: args.path.startsWith('node:')
                ? args.path
                : require.resolve(args.path),
              external: true,
            }));
          },
        },
      ],
    });
  });

  test('every result whose commit was reported survives, once', async () => {
    const dir = freshDir();
    const tasks = 200_000;
    const child = spawn(process.execPath, [writer, dir, String(tasks), '500'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });

    let reported = 0;
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('close', (code, signal) => resolve(signal ?? code)),
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) reported = Math.max(reported, Number(line));
      // Mid-way, at whatever point of a transaction the writer happens to be.
      if (reported >= 20_000 && child.exitCode === null && !child.killed)
        child.kill('SIGKILL');
    });

    expect(await exited, stderr).toBe('SIGKILL');
    expect(reported).toBeGreaterThanOrEqual(20_000);
    expect(reported).toBeLessThan(tasks);

    const store = new SqliteStore({ dir });
    try {
      const results = [];
      for (let after = 0; ;) {
        const page = store.readResults(jobId('job-1'), after, 10_000);
        if (page.length === 0) break;
        results.push(...page);
        after = page.at(-1)!.seq;
      }
      // Committed in batches from task 0 up: a prefix, at least what was reported.
      expect(results.length).toBeGreaterThanOrEqual(reported);
      results.forEach((result, i) => {
        expect(result.index).toBe(i);
        expect(result.outcome).toEqual({ ok: true, output: `out-${i}` });
      });
      const [job] = store.loadJobs();
      expect(job?.spec.taskCount).toBe(tasks);
      const done = job!.marks.reduce((sum, mark) => sum + mark, 0);
      expect(done).toBe(results.length);
    } finally {
      store.close();
    }

    const db = new Database(path.join(dir, 'colony.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});
