// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, with dist/
// positions mapped back to the TypeScript sources through the bundle's source map.
// Usage (also imported by run.mjs): node profile-summary.mjs FILE [TOP]
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './lib.mjs';

const maps = new Map();

function sourceMapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let map = null;
  try {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (existsSync(`${file}.map`))
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
  } catch {
    map = null;
  }
  maps.set(url, map);
  return map;
}

/** `file:line` of a call frame, in the TypeScript source when a map knows it. */
function where({ url, lineNumber, columnNumber }) {
  if (!url) return '';
  const map = sourceMapFor(url);
  if (map && lineNumber >= 0) {
    const entry = map.findEntry(lineNumber, Math.max(0, columnNumber));
    if (entry?.originalSource) {
      const source = entry.originalSource.replace(/^file:\/\//, '');
      const file = path.isAbsolute(source)
        ? path.relative(ROOT, source)
        : path.relative(
            ROOT,
            path.resolve(path.dirname(fileURLToPath(url)), source),
          );
      return `${file}:${entry.originalLine + 1}`;
    }
  }
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  return `${file.startsWith(ROOT) ? path.relative(ROOT, file) : file}:${lineNumber + 1}`;
}

/** Top functions by self time: [{ms, share, fn, at}]. */
export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (timeDeltas[i] ?? 0));
  }
  // Shares are of busy time: (idle) is left out.
  let total = 0;
  let idle = 0;
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const key = `${callFrame.functionName || '(anonymous)'} ${where(callFrame)}`;
    const entry = byFunction.get(key) ?? {
      fn: callFrame.functionName || '(anonymous)',
      at: where(callFrame),
      us: 0,
    };
    entry.us += us;
    byFunction.set(key, entry);
  }
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({
        ms: Math.round(e.us / 1000),
        share: e.us / total,
        fn: e.fn,
        at: e.at,
      })),
  };
}

/**
 * Self time of the functions named `name`, by their nearest caller in the project's own
 * code (server/, shared/): who makes those writes, those GCs?
 */
export function callersOf(file, name, top = 10) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map();
  profile.samples.forEach((id, i) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const byCaller = new Map();
  for (const [id, us] of selfUs) {
    if (byId.get(id).callFrame.functionName !== name) continue;
    let at = parent.get(id);
    let label = '(none)';
    while (at !== undefined) {
      const frame = byId.get(at).callFrame;
      const position = where(frame);
      if (/^(server|shared)\//.test(position)) {
        label = `${frame.functionName || '(anonymous)'} ${position}`;
        break;
      }
      at = parent.get(at);
    }
    byCaller.set(label, (byCaller.get(label) ?? 0) + us);
  }
  return [...byCaller]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([caller, us]) => ({ caller, ms: Math.round(us / 1000) }));
}

if (
  process.argv[1] === fileURLToPath(import.meta.url) &&
  process.argv[3] === '--callers'
) {
  for (const row of callersOf(process.argv[2], process.argv[4]))
    console.log(`${String(row.ms).padStart(6)} ms  ${row.caller}`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const summary = summarizeProfile(
    process.argv[2],
    Number(process.argv[3] ?? 30),
  );
  console.log(
    `busy ${summary.totalMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
  );
  for (const row of summary.top) {
    console.log(
      `${(row.share * 100).toFixed(1).padStart(5)}% ${String(row.ms).padStart(6)} ms  ${row.fn}  ${row.at}`,
    );
  }
}
