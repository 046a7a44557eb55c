/**
 * Delay before the worker reconnects after `failures` closes in a row: exponential up
 * to `maxMs`, then a random point in its upper half, which spreads a crowd of workers
 * reconnecting to a restarted master.
 */
export function reconnectDelay(
  failures: number,
  minMs: number,
  maxMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(failures, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
