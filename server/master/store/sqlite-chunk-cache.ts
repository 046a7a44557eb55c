/**
 * The chunk rows of the `inputs` table seen from the read side: a chunk of count > 1
 * holds the texts of tasks first..first+count-1 joined with '\n' (see ChunkWriter),
 * and a small cache keeps the recently used ones, split, for dispatch to read again.
 */
import type { EncodedValue } from './store.js';

/**
 * A chunk row of count > 1 (texts of tasks first..first+count-1 joined with '\n'), split
 * into its texts at its second use or at a use of many of them: a task asked for alone
 * (a scattered re-dispatch) is cut out of the text, which allocates nothing else.
 */
export interface TextChunk {
  jid: number;
  first: number;
  count: number;
  text: string;
  texts: string[] | undefined;
}

/** Chunks kept at most, and their text at most (code units). */
const CACHE_CHUNKS = 64;
const CACHE_CHARS = 8 * 1024 * 1024;
/** Texts cut out of an unsplit chunk at its first use, at most; more split it. */
const CUT_MAX = 8;

/**
 * The most recently used text chunks, so that dispatch, which asks for runs of tasks
 * that start and end inside chunks, reads and splits each chunk once. Bounded in chunks
 * and in text, never a whole job. Only text chunks are kept: strings cannot be changed
 * by the caller that receives them, byte arrays could.
 *
 * A chunk not split yet (used once, for a few tasks) waits in a slot of its own until
 * the next one replaces it, and joins the others at its second use: scattered asks then
 * leave short-lived garbage, not a stream of chunks through the LRU (which the garbage
 * collector would promote and then have to sweep: measured 3x slower).
 */
export class ChunkCache {
  /** Split chunks by {@link chunkKey}, least recently used first. */
  readonly #chunks = new Map<number, TextChunk>();
  #chars = 0;
  #unsplit: TextChunk | undefined;

  /** The chunk of job `jid` that holds task `index`, if kept. */
  find(jid: number, index: number): TextChunk | undefined {
    const unsplit = this.#unsplit;
    if (
      unsplit !== undefined &&
      unsplit.jid === jid &&
      index >= unsplit.first &&
      index < unsplit.first + unsplit.count
    )
      return this.#secondUse(unsplit);
    for (const [key, chunk] of this.#chunks) {
      if (
        chunk.jid === jid &&
        index >= chunk.first &&
        index < chunk.first + chunk.count
      ) {
        this.#chunks.delete(key);
        this.#chunks.set(key, chunk);
        return chunk;
      }
    }
    return undefined;
  }

  /** The chunk of job `jid` starting at task `first`, if kept. */
  get(jid: number, first: number): TextChunk | undefined {
    const unsplit = this.#unsplit;
    if (unsplit?.jid === jid && unsplit.first === first)
      return this.#secondUse(unsplit);
    const key = chunkKey(jid, first);
    const chunk = this.#chunks.get(key);
    if (chunk !== undefined) {
      this.#chunks.delete(key);
      this.#chunks.set(key, chunk);
    }
    return chunk;
  }

  /** Keeps a chunk just read and used (split, or cut from). */
  add(chunk: TextChunk): void {
    if (chunk.texts === undefined) {
      this.#unsplit = chunk;
      return;
    }
    this.#chunks.set(chunkKey(chunk.jid, chunk.first), chunk);
    this.#chars += chunk.text.length;
    for (const [key, oldest] of this.#chunks) {
      if (this.#chunks.size <= CACHE_CHUNKS && this.#chars <= CACHE_CHARS)
        break;
      this.#chunks.delete(key);
      this.#chars -= oldest.text.length;
    }
  }

  /** The unsplit chunk, asked for again: it will be split, and kept with the others. */
  #secondUse(chunk: TextChunk): TextChunk {
    this.#unsplit = undefined;
    chunk.texts = splitTexts(chunk);
    this.add(chunk);
    return chunk;
  }
}

/** One number per chunk: jids and task indices stay far below 2^21 and 2^32. */
function chunkKey(jid: number, first: number): number {
  return jid * 2 ** 32 + first;
}

/** Appends the texts of tasks at..min(last, end of chunk) to `out`; the next task. */
export function copyTexts(
  chunk: TextChunk,
  at: number,
  last: number,
  out: EncodedValue[],
): number {
  const { first, count, text } = chunk;
  const end = Math.min(last + 1, first + count);
  if (chunk.texts === undefined && end - at <= CUT_MAX) {
    // Cut out: skip to the text of task `at`, then take one text per task.
    let from = 0;
    for (let i = first; i < at; i++) {
      const newline = text.indexOf('\n', from);
      if (newline < 0) throw corruptChunk(chunk.jid, first, count);
      from = newline + 1;
    }
    for (let i = at; i < end; i++) {
      const newline = text.indexOf('\n', from);
      // Only the chunk's last text has no '\n' after it.
      if (newline < 0 !== (i === first + count - 1))
        throw corruptChunk(chunk.jid, first, count);
      const to = newline < 0 ? text.length : newline;
      out.push(text.slice(from, to));
      from = to + 1;
    }
    return end;
  }
  const texts = (chunk.texts ??= splitTexts(chunk));
  for (let i = at; i < end; i++) out.push(texts[i - first]!);
  return end;
}

/**
 * A chunk row's text with where the last cut stopped: the text of task `cutTask` starts
 * at `cutFrom`. Runs mostly follow one another (at one task at a time, every run starts
 * where the last stopped), so the next cut starts there rather than at the chunk's start.
 */
export interface CutChunk extends Omit<TextChunk, 'texts'> {
  cutTask?: number;
  cutFrom?: number;
}

/**
 * The texts of tasks at..min(last, end of chunk) of a chunk row of count > 1, joined with
 * ',' (as they stand in a JSON array), and the next task: cut out of the chunk's text in
 * one piece, with no string per task. (No text of a chunk holds a raw '\n', see
 * ChunkWriter: each '\n' is a separator.) Notes where it stopped in `chunk`.
 */
export function joinedTexts(
  chunk: CutChunk,
  at: number,
  last: number,
): { joined: string; next: number } {
  const { jid, first, count, text } = chunk;
  const end = Math.min(last + 1, first + count);
  let task = first;
  let from = 0;
  if (chunk.cutTask !== undefined && chunk.cutTask <= at) {
    task = chunk.cutTask;
    from = chunk.cutFrom ?? 0;
  }
  for (; task < at; task++) {
    const newline = text.indexOf('\n', from);
    if (newline < 0) throw corruptChunk(jid, first, count);
    from = newline + 1;
  }
  let to = from;
  for (let i = at; i < end; i++) {
    const newline = text.indexOf('\n', to);
    // Only the chunk's last text has no '\n' after it.
    const lastOfChunk = i === first + count - 1;
    if (newline < 0 !== lastOfChunk) throw corruptChunk(jid, first, count);
    to = lastOfChunk ? text.length + 1 : newline + 1;
  }
  chunk.cutTask = end;
  chunk.cutFrom = to;
  const piece = text.slice(from, to - 1);
  return { joined: piece.replaceAll('\n', ','), next: end };
}

function splitTexts({ jid, first, count, text }: TextChunk): string[] {
  const texts = text.split('\n');
  if (texts.length !== count) throw corruptChunk(jid, first, count);
  return texts;
}

export function corruptChunk(jid: number, first: number, count: number): Error {
  return new Error(
    `the input chunk of job #${jid} at task ${first} does not hold ${count} texts`,
  );
}
