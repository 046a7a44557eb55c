/**
 * Warming a fresh master, so that its first job runs about as fast as the next: the
 * first esbuild call (module validation) starts esbuild's service process, which takes
 * up to a second on a busy machine, and the JSON scanning paths of inputs and results
 * run cold, and so do the scheduler, the `tasks` frames and the results intake. All are
 * started here, at boot, on synthetic data that touches no store.
 */
import { scanNdjsonInputs, scanSubmitBody } from './input-texts.js';
import { validateModule } from './jobs-service.js';
import { scanResultsFrame } from './results-text.js';
import { warmScheduler } from './warm-up-scheduler.js';
import type { Logger } from '../log.js';
import { retainMaps } from '../retain-maps.js';

/** Records shaped like common inputs: a few keys, a number, a string. */
function syntheticInputs(count: number): string[] {
  const inputs: string[] = [];
  for (let i = 0; i < count; i++) {
    inputs.push(
      i % 2 === 0
        ? String(i)
        : `{"id":"warm-${i}","x":${i},"text":"lorem ipsum","ok":true,"v":[1.5,null]}`,
    );
  }
  return inputs;
}

/** Runs the scanners a few hundred times over: the JIT compiles them before a job needs it. */
function warmScanners(): void {
  const inputs = syntheticInputs(256);
  const base = Date.now() * 1_000;
  for (let round = 0; round < 8; round++) {
    scanSubmitBody(
      `{"name":"warm-up","module":"export default (x) => x","inputs":[${inputs.join(',')}]}`,
    );
    scanNdjsonInputs(inputs.join('\n'));
    // Leases of the size the scheduler issues (from Date.now() * 1000).
    const leases = inputs.map((_, i) => base + i).join(',');
    scanResultsFrame(
      `{"type":"results","leases":[${leases}],"outputs":[${inputs.join(',')}],"credit":256}`,
    );
  }
}

/** Starts esbuild and warms the hot paths; never throws (a failure is only logged). */
export function warmUp(logger: Logger): void {
  retainMaps();
  validateModule('export default (input) => input;').catch((error: unknown) =>
    logger.warn({ err: error }, 'warm-up: module validation failed'),
  );
  try {
    warmScanners();
  } catch (error) {
    logger.warn({ err: error }, 'warm-up: scanners failed');
  }
  // After the listen (this runs first): the port is bound without waiting for it.
  setImmediate(() => {
    try {
      warmScheduler();
    } catch (error) {
      logger.warn({ err: error }, 'warm-up: scheduler failed');
    }
  });
}
