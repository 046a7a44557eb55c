/**
 * A rehearsal of whole jobs at start, so that a fresh master's first job runs about as
 * fast as the next: a throwaway master (its own SQLite store in a temporary directory,
 * its own port on loopback) gets a job of numbers and one of records through its HTTP
 * API (then a second throwaway master the numbers again, see below), deals them to two
 * in-process workers over real WebSockets (challenge, signed hello, credit, `tasks`,
 * `results`, acks) and is polled until each ends and its results read, as clients do.
 * One worker answers late, as a busy one does: the job's tail then has stragglers, so
 * backup copies, their revokes and the late results of revoked leases run too (a first
 * job of two workers takes those paths, and code compiled without them was thrown away
 * at its end). Every step runs the code the real master runs, on the same shapes, so
 * the JIT has compiled it and the heap has grown by the time a user's job comes; the
 * JIT's work is shared with the real master, nothing else is: the throwaway masters and
 * their directories are removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import WebSocket from 'ws';
import { generateVolunteerKeys, proveHello } from '../../shared/identity.js';
import { encodeMessage } from '../../shared/json-text.js';
import { PROTOCOL_VERSION, type Lease } from '../../shared/protocol.js';
import type { MasterOptions } from './config.js';
import type { Master } from './master-types.js';
import { makeRehearsalDir, removeStaleRehearsalDirs } from './warm-up-dirs.js';
import { growYoungGeneration } from './warm-up-heap.js';

/** Tasks of the numbers job (the records job has a quarter as many). */
export const REHEARSAL_TASKS = 8_192;
/** A rehearsal still running past this is abandoned (a slow machine's start). */
const MAX_REHEARSAL_MS = 30_000;
/** How often the job is polled, as a client waiting for it does. */
const POLL_MS = 10;
const MODULE = 'export default (input) => input;';
/** How late the second worker answers each `tasks` frame. */
const LATE_MS = 20;

export interface JobRehearsal {
  /**
   * Settles once the throwaway master is closed and its directory removed, with the
   * number of tasks its jobs completed.
   */
  done: Promise<number>;
  /** Cuts the rehearsal short (the real master is closing). */
  stop(): void;
}

type Build = (options: MasterOptions) => Master;

/** Sends a request to the throwaway master; resolves with the body text. */
function request(
  url: string,
  token: string,
  method: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A worker of one slot that answers every task with its input, `lateMs` after. */
function echoWorker(
  port: number,
  onError: (error: unknown) => void,
  lateMs = 0,
) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
    perMessageDeflate: false,
  });
  const keys = generateVolunteerKeys(false);
  socket.on('error', onError);
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = (data as Buffer).toString('utf8');
    const message = JSON.parse(text) as {
      type: string;
      nonce?: string;
      groups?: { leases: Lease[]; inputs: unknown[] }[];
    };
    if (message.type === 'challenge' && message.nonce !== undefined) {
      const nonce = message.nonce;
      keys
        .then((pair) => proveHello(pair, `127.0.0.1:${port}`, nonce))
        .then((volunteer) =>
          socket.send(
            JSON.stringify({
              type: 'hello',
              protocol: PROTOCOL_VERSION,
              kind: 'node',
              slots: 1,
              volunteer,
              resumes: true,
              standing: true,
            }),
          ),
        )
        .catch(onError);
    } else if (message.type === 'welcome') {
      socket.send('{"type":"ready","credit":2048}');
    } else if (message.type === 'tasks') {
      const answer = () => {
        if (socket.readyState !== WebSocket.OPEN) return;
        for (const { leases, inputs } of message.groups ?? []) {
          // The late worker answers in two frames, the first without credit, as a
          // worker does when its results outgrow a frame: both shapes are then seen.
          const cut = lateMs > 0 ? leases.length >> 1 : 0;
          const frame = (from: number, to: number, credit: number) =>
            encodeMessage({
              type: 'results',
              leases: leases.slice(from, to),
              outputs: inputs.slice(from, to),
              busyMs: leases.slice(from, to).map(() => 0.001),
              ...(credit > 0 ? { credit } : {}),
            });
          if (cut > 0) socket.send(frame(0, cut, 0));
          socket.send(frame(cut, leases.length, leases.length));
        }
      };
      if (lateMs > 0) setTimeout(answer, lateMs);
      else answer();
    }
  });
  return socket;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Submits a job, polls it until it ends (or `stopped()` says to give up) and reads its
 * results; returns how many of its tasks were done.
 */
async function runJob(
  url: string,
  token: string,
  inputs: unknown[],
  stopped: () => boolean,
): Promise<number> {
  const submitted = await request(
    `${url}/api/jobs`,
    token,
    'POST',
    JSON.stringify({ name: 'warm-up', module: MODULE, inputs }),
  );
  if (submitted.status !== 201 && submitted.status !== 200)
    throw new Error(`submit answered ${submitted.status}`);
  const { id } = JSON.parse(submitted.text) as { id: string };
  while (!stopped()) {
    const job = await request(`${url}/api/jobs/${id}`, token, 'GET');
    const view = JSON.parse(job.text) as {
      state?: string;
      counts?: { done?: number };
    };
    if (view.state !== 'running') {
      // Read its results too, as a client does next (the results stream's paths).
      await request(`${url}/api/jobs/${id}/results`, token, 'GET');
      return view.counts?.done ?? 0;
    }
    await sleep(POLL_MS);
  }
  return 0;
}

interface Stage {
  build: Build;
  options: MasterOptions;
  onError: (error: unknown) => void;
  stopped: () => boolean;
  /** Settles when the rehearsal is stopped. */
  stopping: Promise<void>;
}

/**
 * One throwaway master, from its build to the removal of its directory, running `jobs`
 * in turn; resolves with the number of tasks they completed.
 */
async function rehearseOn(stage: Stage, jobs: unknown[][]): Promise<number> {
  const { build, options, onError, stopped } = stage;
  const dir = makeRehearsalDir();
  const token = randomBytes(24).toString('hex');
  const master = build({
    dataDir: dir,
    token,
    logLevel: 'silent',
    ...(options.fsync ? { fsync: options.fsync } : {}),
  });
  let sockets: WebSocket[] = [];
  let completed = 0;
  try {
    const { url, port } = await master.listen({ host: '127.0.0.1', port: 0 });
    sockets = [echoWorker(port, onError), echoWorker(port, onError, LATE_MS)];
    const run = (async () => {
      for (const inputs of jobs) {
        if (stopped()) break;
        completed += await runJob(url, token, inputs, stopped);
      }
    })();
    await Promise.race([run, stage.stopping]);
  } catch (error) {
    onError(error);
  } finally {
    for (const socket of sockets) socket.terminate();
    await master.close().catch(onError);
    rmSync(dir, { recursive: true, force: true });
  }
  return completed;
}

/**
 * Starts the rehearsal with `build` (main.ts's `buildMaster`), the real master's
 * options giving its store settings; a failure is only logged, through `onError`.
 */
export function rehearseJobs(
  build: Build,
  options: MasterOptions,
  onError: (error: unknown) => void,
  tasks = REHEARSAL_TASKS,
): JobRehearsal {
  try {
    removeStaleRehearsalDirs();
  } catch (error) {
    onError(error);
  }
  let stopped = false;
  let wake: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (wake = resolve));
  const stop = () => {
    stopped = true;
    wake();
  };
  const limit = setTimeout(stop, MAX_REHEARSAL_MS);
  limit.unref();
  const stage: Stage = {
    build,
    options,
    onError,
    stopped: () => stopped,
    stopping,
  };
  const numbers = Array.from({ length: tasks }, (_, i) => i);
  const records = numbers
    .slice(0, Math.ceil(tasks / 4))
    .map((i) => ({ id: `task-${i}`, x: i, text: 'lorem ipsum dolor' }));
  const done = (async () => {
    let completed = await rehearseOn(stage, [numbers, records]);
    // Numbers again, on a second throwaway master. The records' new shapes, a job's
    // tail, workers leaving and a master closing (fields written once, at close, that
    // compiled code took for constants) leave the hot code (dispatch, leases, frame
    // encoding, results intake) deoptimised, to be recompiled only once it is hot
    // again: the second master's job recompiles it for all of them, and its own close
    // then changes nothing, so a user's first job does not have to recompile it.
    if (!stopped) completed += await rehearseOn(stage, [numbers]);
    clearTimeout(limit);
    // Last, so that the young generation is at its largest when a first job comes.
    if (!stopped) await growYoungGeneration();
    return completed;
  })();
  return { done, stop };
}
