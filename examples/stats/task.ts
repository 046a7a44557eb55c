/**
 * The stats task: generate one chunk of the dataset from the seed and summarize it per
 * group. Runs in a Node worker thread or a browser Web Worker (no Node APIs).
 */
import { generateChunk, type StatsInput } from './data.js';
import { accumulate, newAccumulators, type ChunkSummary } from './summary.js';

export default function statsTask(input: StatsInput): ChunkSummary {
  const started = performance.now();
  const rows = generateChunk(input.seed, input.chunk, input.rows);
  const accumulators = newAccumulators();
  accumulate(accumulators, rows);
  return {
    groups: accumulators.map((acc) => acc.toJSON()),
    ms: performance.now() - started,
  };
}
