/**
 * What the four example drivers share (Node only): flags, the cluster (a running master,
 * or a local master with two Node workers), the bundled task module, timing and the
 * printed report.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  bundleModule,
  ColonyClient,
  type ResultLine,
} from '../../server/client/index.js';
import { createLogger } from '../../server/log.js';
import { startMaster } from '../../server/master/main.js';
import { startNodeWorker } from '../../server/worker/node-worker.js';

/** Flags every example takes. */
export const COMMON_FLAGS = {
  url: { type: 'string' },
  token: { type: 'string' },
  small: { type: 'boolean' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `  --url URL --token T   use a running master (volunteer tabs can join) instead of
                        starting a local master with two Node workers
  --threads N           threads of each local worker (default: half the cores)
  --small               a small run (what the tests use)
  --seed N              seed of the generated data`;

/** A bad flag: main() prints the message on one line and exits 2. */
export class UsageError extends Error {}

/** parseArgs, strict, with a one-line error for an unknown or malformed flag. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
) {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...COMMON_FLAGS, ...options },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // One line: parseArgs's hints (e.g. `--center-x=-0.75`) joined.
    throw new UsageError((error as Error).message.replace(/\n/g, ' '));
  }
}

/** A whole number flag in [min, max]; undefined when absent. */
export function intFlag(
  name: string,
  value: string | boolean | undefined,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(
      `--${name} must be a whole number in [${min}, ${max}]`,
    );
  return n;
}

/** A finite number flag; undefined when absent. */
export function numberFlag(
  name: string,
  value: string | boolean | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number`);
  return n;
}

/** The examples/ folder, from the sources (tests) or from dist/examples/ (run.mjs). */
export function examplesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '..'),
    path.resolve(here, '../../examples'),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'run.mjs')));
  if (!found) throw new Error(`cannot find examples/ from ${here}`);
  return found;
}

/** The task module of example `name`, bundled (it and its imports, one ES module). */
export function bundleTask(name: string): Promise<string> {
  return bundleModule(path.join(examplesDir(), name, 'task.ts'));
}

export interface ClusterOptions {
  url?: string | undefined;
  token?: string | undefined;
  /** Threads of each local worker. @defaultValue half the cores, at least 1 */
  threads?: number | undefined;
}

/** Where tasks run: a client, and what to say about it. */
export interface Cluster {
  client: ColonyClient;
  /** One line for the report. */
  description: string;
  /** Worker slots connected now. */
  slots(): Promise<number>;
  close(): Promise<void>;
}

/** Local workers connect within this, or the example gives up. */
const CONNECT_MS = 15_000;

/**
 * With `url`, a client of that master. Without, a master on a free port (memory store)
 * and two Node workers, connected before this resolves.
 */
export async function openCluster(options: ClusterOptions): Promise<Cluster> {
  if (options.url) {
    const client = new ColonyClient({
      url: options.url,
      ...(options.token ? { token: options.token } : {}),
    });
    const slots = async () =>
      (await client.workers()).reduce((sum, worker) => sum + worker.slots, 0);
    const now = await slots();
    const waiting =
      now === 0
        ? `; no workers yet: open ${client.url}/volunteer or run \`npx colony worker ${client.url}\``
        : '';
    return {
      client,
      description: `master at ${client.url} (${now} worker slot${now === 1 ? '' : 's'} at start${waiting})`,
      slots,
      close: async () => undefined,
    };
  }
  const threads =
    options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / 2));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colony-example-'));
  const master = await startMaster({
    port: 0,
    store: 'memory',
    dataDir,
    logLevel: 'warn',
  });
  const logger = createLogger('worker', 'warn');
  const workers: ReturnType<typeof startNodeWorker>[] = [];
  const connected: Promise<void>[] = [];
  for (let i = 1; i <= 2; i++) {
    connected.push(
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`local worker ${i} did not connect`)),
          CONNECT_MS,
        );
        workers.push(
          startNodeWorker({
            url: master.url,
            threads,
            name: `local-${i}`,
            logger,
            onStatus: (status) => {
              if (status.state === 'connected') {
                clearTimeout(timer);
                resolve();
              }
            },
          }),
        );
      }),
    );
  }
  const close = async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await master.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(connected);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    client: new ColonyClient({ url: master.url, token: master.token }),
    description: `local master + 2 Node workers x ${threads} thread${threads === 1 ? '' : 's'} (${master.url})`,
    slots: async () => 2 * threads,
    close,
  };
}

/** The outputs of a finished job, in task order; throws on a failed task. */
export function outputsOf<T>(results: readonly ResultLine[]): T[] {
  return Array.from(results, (line, i) => {
    if (!line) throw new Error(`task ${i} has no result`);
    if (!line.ok) throw new Error(`task ${i} failed: ${line.error}`);
    return line.output as T;
  });
}

/** Milliseconds since `started` (performance.now()). */
export function since(started: number): number {
  return performance.now() - started;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `1234567` -> `1,234,567`. */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, c) =>
    Math.max(header.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) =>
        c === 0
          ? cell.padEnd(widths[c] as number)
          : cell.padStart(widths[c] as number),
      )
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
  ].join('\n');
}

/** Where a driver writes its report (stdout by default; tests may collect it). */
export type Print = (line: string) => void;

export const printToStdout: Print = (line) => {
  process.stdout.write(`${line}\n`);
};

/** The outcome of a check: `check: OK ...` or `check: FAILED ...`. */
export interface Check {
  ok: boolean;
  detail: string;
}

export function checkLine(check: Check): string {
  return `check: ${check.ok ? 'OK' : 'FAILED'} (${check.detail})`;
}

/**
 * The body of every example's `main(argv)`: parse, run, print a one-line error on bad
 * flags; resolves to the exit code (0 ok, 1 check failed, 2 usage or run error).
 */
export async function runMain(
  usage: string,
  body: () => Promise<Check>,
  argv: readonly string[],
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n${COMMON_HELP}\n`);
    return 0;
  }
  try {
    const check = await body();
    return check.ok ? 0 : 1;
  } catch (error) {
    const message =
      error instanceof UsageError
        ? `${error.message} (see --help)`
        : (error as Error).message;
    process.stderr.write(`error: ${message}\n`);
    return 2;
  }
}
