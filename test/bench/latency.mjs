// The bench's latency scenario: round trips at credit 1 through the master against a
// bare `ws` request/response, measured by one client process (latency-client.mjs) that
// alternates blocks of each, so that both see the same load. The master and the bare
// server share core 0, the client has core 1. Which trips are the slow ones, and what of
// the master's (a GC, a commit) overlapped them: latency-trace.mjs.
import {
  TOKEN,
  procCpuSeconds,
  runScript,
  startMaster,
  stopChild,
} from './lib.mjs';

/**
 * Resolves once `cpu()` (CPU seconds of a process) stays nearly still over two samples
 * in a row, or after `limitMs`: a fresh master rehearses whole jobs after it binds its
 * port (server/master/warm-up-job.ts), and round trips measured meanwhile would share
 * the core with that work (and its CPU would count as the round trips').
 */
export async function untilIdle(cpu, limitMs = 30_000) {
  const SAMPLE_MS = 200;
  const end = Date.now() + limitMs;
  let last = cpu();
  let quiet = 0;
  while (quiet < 2 && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    const now = cpu();
    // Below 10% of a core: at most a tick or two of the 10 ms clock.
    quiet = now - last <= 0.02 ? quiet + 1 : 0;
    last = now;
  }
}

const median = (list) =>
  [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

/** The medians over the rounds of one side's p50, p99 and mean. */
function figures(list) {
  return {
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    mean: median(list.map((r) => r.mean)),
  };
}

export async function latency({ rounds, blocks, block, profileDir }) {
  const server = runScript('ws-server.mjs', [], {
    timeoutMs: 600_000,
    cpu: 0,
  });
  try {
    const { port } = await server.waitFor((line) => line.port, 10_000);
    const master = await startMaster({
      label: 'latency',
      cpu: 0,
      ...(profileDir ? { profileDir } : {}),
    });
    try {
      await untilIdle(master.cpu);
      const cpu0 = {
        master: master.cpu(),
        bare: procCpuSeconds(server.child.pid),
      };
      const result = await runScript(
        'latency-client.mjs',
        [master.url, TOKEN, `ws://127.0.0.1:${port}/ws`, rounds, blocks, block],
        { cpu: 1, timeoutMs: 600_000 },
      ).done;
      if (result.done !== result.count)
        throw new Error(`${result.done} of ${result.count} tasks done`);
      // CPU per round trip on each server's side (the master's includes the submit).
      const cpuPerTrip = {
        master: ((master.cpu() - cpu0.master) * 1e3) / result.count,
        bare:
          ((procCpuSeconds(server.child.pid) - cpu0.bare) * 1e3) /
          (result.count - 1),
      };
      const runs = {
        bare: result.rounds.map((r) => r.bare),
        colony: result.rounds.map((r) => r.colony),
      };
      return {
        rounds,
        perRound: blocks * block,
        cpuPerTrip,
        bare: figures(runs.bare),
        colony: figures(runs.colony),
        runs,
      };
    } finally {
      await master.stop();
    }
  } finally {
    await stopChild(server.child);
  }
}
