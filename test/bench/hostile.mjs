// Strangers at the master: an honest worker's round trip (credit 1) and /healthz while a
// stranger floods the same master from the same address (a 60 MB frame before hello and
// 100 half-open handshakes; test/fixtures/flood.mjs), against the same worker just
// before the flood. The master runs with its default per-address caps.
import { TOKEN, runScript, startMaster } from './lib.mjs';

export async function hostile({ count, warm }) {
  const master = await startMaster({
    label: 'hostile',
    defaultCaps: true,
    handshakeMs: 3_000,
  });
  try {
    const figures = await runScript(
      'hostile-client.mjs',
      [master.url, TOKEN, count, warm],
      { timeoutMs: 300_000 },
    ).done;
    const admitted = figures.statuses.filter((s) => s === 101).length;
    const refused = figures.statuses.filter((s) => s === 429).length;
    return { count, warm, admitted, refused, ...figures };
  } finally {
    await master.stop();
  }
}
