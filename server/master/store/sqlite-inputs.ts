/**
 * The inputs of the SQLite store: written as chunk rows (ChunkWriter), read back in runs
 * of consecutive tasks through a small cache of split chunks (ChunkCache).
 */
import type Database from 'better-sqlite3';
import type { JobId } from '../scheduler/types.js';
import type { EncodedValue } from './store.js';
import type { Bindable } from './sqlite-rows.js';
import { fromSql } from './sqlite-rows.js';
import { ChunkWriter, prepareChunkInserts } from './sqlite-chunk-writer.js';
import type { CutChunk, TextChunk } from './sqlite-chunk-cache.js';
import {
  ChunkCache,
  copyTexts,
  corruptChunk,
  joinedTexts,
} from './sqlite-chunk-cache.js';

type ChunkRow = [first: number, count: number, value: EncodedValue];

/** Reads and writes the `inputs` table. Callers check job ids and ranges first. */
/**
 * Calls `each` for every ascending run first..last of `indices`, checked to lie in
 * 0..taskCount-1; stops at the first run it answers false for, and says whether all ran.
 */
function forEachRun(
  jobId: JobId,
  taskCount: number,
  indices: readonly number[],
  each: (first: number, last: number) => boolean,
): boolean {
  let start = 0;
  while (start < indices.length) {
    const first = indices[start]!;
    let end = start + 1;
    while (end < indices.length && indices[end] === indices[end - 1]! + 1)
      end++;
    const last = indices[end - 1]!;
    // A run is integers if its first is; it lies in 0..taskCount-1 if its ends do.
    if (!Number.isInteger(first) || first < 0 || last >= taskCount) {
      throw new RangeError(
        `job ${jobId} has no input in ${first}..${last} (taskCount ${taskCount})`,
      );
    }
    if (!each(first, last)) return false;
    start = end;
  }
  return true;
}

export class SqliteInputs {
  readonly #cache = new ChunkCache();
  /** The chunk row of count > 1 read last by {@link readJoined}: runs start inside it. */
  #lastChunk: CutChunk | undefined;
  readonly #insertChunks: Database.Statement<Bindable[]>[];
  readonly #chunksCovering;

  constructor(db: Database.Database) {
    this.#insertChunks = prepareChunkInserts(db);
    // The chunks holding tasks from..to: from the last chunk starting at or before
    // `from`, one range of the primary key.
    this.#chunksCovering = db
      .prepare<[number, number, number, number], ChunkRow>(
        `SELECT first, count, value FROM inputs
         WHERE jid = ? AND first BETWEEN
           (SELECT MAX(first) FROM inputs WHERE jid = ? AND first <= ?) AND ?
         ORDER BY first`,
      )
      .raw();
  }

  /**
   * Writes inputs as tasks first.. in new chunk rows (inside the caller's transaction):
   * the rows written before stay as they are (and as cached).
   */
  write(jid: number, first: number, inputs: readonly EncodedValue[]): void {
    const writer = new ChunkWriter(this.#insertChunks, jid);
    for (let i = 0; i < inputs.length; i++) writer.push(first + i, inputs[i]!);
    writer.end();
  }

  /**
   * Inputs of the given tasks of job `jid`, in the order asked. Dispatch asks mostly
   * for ascending runs: one range query per run instead of one lookup per task, and
   * none for the part of a run in chunks split before.
   */
  read(
    jobId: JobId,
    jid: number,
    taskCount: number,
    indices: readonly number[],
  ): EncodedValue[] {
    const out: EncodedValue[] = [];
    forEachRun(jobId, taskCount, indices, (first, last) => {
      this.#readRun(jobId, jid, first, last, out);
      return true;
    });
    return out;
  }

  /**
   * The inputs of the given tasks as one text, their JSON texts in the order asked joined
   * with ',' (a JSON array's inside), cut out of chunk rows without a string per task;
   * undefined if any of them is bytes (then {@link read} gives them).
   */
  readJoined(
    jobId: JobId,
    jid: number,
    taskCount: number,
    indices: readonly number[],
  ): string | undefined {
    const parts: string[] = [];
    const whole = forEachRun(jobId, taskCount, indices, (first, last) =>
      this.#readRunJoined(jobId, jid, first, last, parts),
    );
    if (!whole) return undefined;
    return parts.join(',');
  }

  /** Appends the texts of tasks first..last to `parts`; false if one is bytes. */
  #readRunJoined(
    jobId: JobId,
    jid: number,
    first: number,
    last: number,
    parts: string[],
  ): boolean {
    let at = first;
    const kept = this.#lastChunk;
    if (
      kept !== undefined &&
      kept.jid === jid &&
      at >= kept.first &&
      at < kept.first + kept.count
    ) {
      const { joined, next } = joinedTexts(kept, at, last);
      parts.push(joined);
      at = next;
    }
    if (at > last) return true;
    for (const [chunkFirst, count, value] of this.#chunksCovering.all(
      jid,
      jid,
      at,
      last,
    )) {
      if (chunkFirst > at || chunkFirst + count <= at) break;
      if (count === 1) {
        // One input as it is (JSON text may hold a raw '\n' between its tokens).
        if (typeof value !== 'string') return false;
        parts.push(value);
        at++;
        continue;
      }
      if (typeof value !== 'string') throw corruptChunk(jid, chunkFirst, count);
      const chunk: CutChunk = { jid, first: chunkFirst, count, text: value };
      const { joined, next } = joinedTexts(chunk, at, last);
      parts.push(joined);
      at = next;
      // The next run most likely starts where this one stopped.
      this.#lastChunk = chunk;
    }
    if (at <= last)
      throw new RangeError(`job ${jobId} lacks inputs in ${at}..${last}`);
    return true;
  }

  /** Appends the inputs of tasks first..last (all < taskCount) to `out`. */
  #readRun(
    jobId: JobId,
    jid: number,
    first: number,
    last: number,
    out: EncodedValue[],
  ): void {
    let at = first;
    for (
      let chunk = this.#cache.find(jid, at);
      chunk !== undefined;
      chunk = this.#cache.find(jid, at)
    ) {
      at = copyTexts(chunk, at, last, out);
      if (at > last) return;
    }
    for (const [chunkFirst, count, value] of this.#chunksCovering.all(
      jid,
      jid,
      at,
      last,
    )) {
      // A gap: reported below.
      if (chunkFirst > at || chunkFirst + count <= at) break;
      if (count === 1) {
        out.push(fromSql(value));
        at++;
        continue;
      }
      at = this.#readChunk(jid, chunkFirst, count, value, at, last, out);
    }
    if (at <= last)
      throw new RangeError(`job ${jobId} lacks inputs in ${at}..${last}`);
  }

  /** Copies tasks at..last from a chunk row of count > 1 just read; the next task. */
  #readChunk(
    jid: number,
    chunkFirst: number,
    count: number,
    value: EncodedValue,
    at: number,
    last: number,
    out: EncodedValue[],
  ): number {
    const cached = this.#cache.get(jid, chunkFirst);
    if (cached !== undefined) return copyTexts(cached, at, last, out);
    if (typeof value !== 'string') throw corruptChunk(jid, chunkFirst, count);
    const chunk: TextChunk = {
      jid,
      first: chunkFirst,
      count,
      text: value,
      texts: undefined,
    };
    const next = copyTexts(chunk, at, last, out);
    // Kept only when the run used part of it: the rest is what the next run (or a
    // scattered ask) is likely to want. A chunk used whole is not asked for again.
    if (chunkFirst < at || next < chunkFirst + count) this.#cache.add(chunk);
    return next;
  }
}
