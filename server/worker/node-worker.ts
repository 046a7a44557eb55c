/**
 * `colony worker`: the shared worker session over a `ws` client, with a worker_threads
 * executor, in a sandboxed child process unless the sandbox is `none`. It stays up
 * across master restarts (reconnecting with jittered backoff).
 */
import os from 'node:os';
import WebSocket from 'ws';
import {
  runWorkerSession,
  type Connect,
  type Executor,
  type SessionStatus,
  type Transport,
  type WorkerSession,
} from '../../shared/worker-session.js';
import {
  generateVolunteerKeys,
  proveHello,
  type VolunteerKeys,
} from '../../shared/identity.js';
import type { Logger } from '../log.js';
import { SandboxedExecutor } from './sandbox/executor.js';
import { childCommand, type SandboxMode } from './sandbox/modes.js';
import { fetchModule } from './sandbox/module-fetch.js';
import { decodeTasksBytes, mayBeRecordTasks } from './tasks-bytes.js';
import { ThreadPool } from './thread-pool.js';
import { warmUpWorker } from './warm-up.js';
import {
  REHEARSAL_MODULE,
  REHEARSAL_SOURCE,
  rehearse,
} from './warm-up-session.js';
import { maskOption } from './ws-mask.js';

export interface NodeWorkerOptions {
  /** The master's base URL, e.g. http://127.0.0.1:8080, or several: `URL1,URL2` (on loss it moves to the next). */
  url: string;
  /** @defaultValue the number of cores */
  threads?: number;
  name?: string;
  /** A fixed prefetch window (1 = one task at a time); else adaptive. */
  window?: number;
  /**
   * The CPU share of each thread, percent 1..100: after a task that ran t ms a thread
   * rests t * (100 / cpu - 1) ms (see shared/duty-cycle.ts). @defaultValue 100
   */
  cpuPercent?: number;
  threadMemoryMb?: number;
  /**
   * Where task code runs (resolve `auto` with `resolveSandbox` first).
   * @defaultValue 'none': threads in this process, for code the caller trusts
   */
  sandbox?: SandboxMode;
  logger: Logger;
  onStatus?: (status: SessionStatus) => void;
  /**
   * The volunteer's keys (`loadIdentity` of identity-file.ts). @defaultValue a key
   * pair made for this run only (tests, `colony demo`)
   */
  keys?: VolunteerKeys | Promise<VolunteerKeys>;
}

export interface RunningWorker {
  session: WorkerSession;
  pool: Executor & { close(): Promise<void> };
  sandbox: SandboxMode;
  stop(): Promise<void>;
}

/** A master that sends nothing (not even a ping) for this long is presumed gone. */
const SILENT_MASTER_MS = 35_000;

export function wsUrlOf(base: string): string {
  const url = new URL(base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/ws';
  url.search = '';
  return url.toString();
}

/** Adds the sandbox mode to `hello` (the session writes it; the master shows it). */
function withSandbox(
  frame: string | Uint8Array,
  sandbox: SandboxMode,
): string | Uint8Array {
  if (typeof frame !== 'string' || !frame.startsWith('{"type":"hello"'))
    return frame;
  return JSON.stringify({ ...(JSON.parse(frame) as object), sandbox });
}

/** `URL1,URL2,...`: the masters a worker may use, in the order it tries them. */
export function masterList(urls: string): string[] {
  const list = urls
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  if (list.length === 0) throw new Error('no master URL given');
  for (const url of list) new URL(url);
  return list;
}

export function startNodeWorker(options: NodeWorkerOptions): RunningWorker {
  const { logger } = options;
  const masters = masterList(options.url);
  // Start anywhere in the list, so that workers given the same list spread out.
  let current = Math.floor(Math.random() * masters.length);
  let connects = 0;
  const base = () => new URL(masters[current] as string);
  const sandbox = options.sandbox ?? 'none';
  const limits = {
    threads: options.threads ?? os.availableParallelism(),
    ...(options.threadMemoryMb
      ? { threadMemoryMb: options.threadMemoryMb }
      : {}),
  };
  const loadModule = (hash: string) =>
    hash === REHEARSAL_MODULE
      ? Promise.resolve(REHEARSAL_SOURCE)
      : fetchModule(base(), hash).catch((error: unknown) => {
          logger.error({ module: hash }, (error as Error).message);
          throw error;
        });
  const pool =
    sandbox === 'none'
      ? new ThreadPool({
          ...limits,
          loadModule,
          onLog: (message) => logger.warn(message),
        })
      : new SandboxedExecutor({
          ...limits,
          command: childCommand(sandbox, limits),
          loadModule,
          onLog: (level, message) => logger[level](message),
        });

  if (options.cpuPercent !== undefined && options.cpuPercent < 100)
    pool.setShare(options.cpuPercent);

  const open: Connect = (handlers) => {
    // Every reconnect (after the session's jittered backoff) tries the next master.
    if (connects++ > 0) current = (current + 1) % masters.length;
    const wsUrl = wsUrlOf(base().toString());
    const socket = new WebSocket(wsUrl, {
      perMessageDeflate: false,
      maxPayload: 256 * 1024 * 1024,
      ...maskOption(wsUrl),
    });
    let silence: NodeJS.Timeout | null = null;
    const heard = () => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => socket.terminate(), SILENT_MASTER_MS);
      silence.unref();
    };
    socket.on('open', () => {
      heard();
      handlers.onOpen();
    });
    socket.on('ping', heard);
    socket.on('message', (data, isBinary) => {
      heard();
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data;
      // A large frame of records: decoded from its bytes, never as one big string.
      const batches =
        !isBinary && handlers.onTasks && mayBeRecordTasks(bytes)
          ? decodeTasksBytes(bytes)
          : null;
      if (batches) return handlers.onTasks?.(batches);
      handlers.onMessage(
        isBinary
          ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
          : bytes.toString('utf8'),
      );
    });
    socket.on('error', (error) =>
      logger.debug({ err: error.message }, 'socket error'),
    );
    socket.on('close', (code, reason) => {
      if (silence) clearTimeout(silence);
      handlers.onClose(code, reason.toString());
    });
    return {
      send: (frame) => {
        if (socket.readyState === WebSocket.OPEN)
          socket.send(withSandbox(frame, sandbox));
      },
      close: (code, reason) => socket.close(code, reason),
    };
  };

  warmUpWorker(base(), (message) => logger.warn(message));
  // The first connection waits for the rehearsal of the pipeline (warm-up-session.ts).
  const rehearsed = rehearse(pool);
  const connect: Connect = (handlers) => {
    let transport: Transport | null = null;
    let closed = false;
    void rehearsed.then(() => {
      if (!closed) transport = open(handlers);
    });
    return {
      send: (frame) => transport?.send(frame),
      close: (code, reason) => {
        if (transport) return transport.close(code, reason);
        if (closed) return;
        closed = true;
        setImmediate(() => handlers.onClose(code, reason));
      },
    };
  };
  let lastState: string | null = null;
  const keys = Promise.resolve(options.keys ?? generateVolunteerKeys(false));
  const session = runWorkerSession({
    connect,
    executor: pool,
    kind: 'node',
    // Signed for the host this worker dials now (the master checks it against `Host`):
    // with a list of masters that is the one the current connection went to.
    prove: async (nonce) => proveHello(await keys, base().host, nonce),
    ...(options.name ? { name: options.name } : {}),
    ...(options.window ? { fixedWindow: options.window } : {}),
    clock: {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
      random: Math.random,
    },
    onStatus: (status) => {
      if (status.state !== lastState) {
        lastState = status.state;
        logger.info(
          {
            state: status.state,
            workerId: status.workerId,
            lastClose: status.lastClose,
          },
          `worker ${status.state}`,
        );
      }
      options.onStatus?.(status);
    },
    onLog: (level, message) => logger[level](message),
  });

  return {
    session,
    pool,
    sandbox,
    stop: async () => {
      session.stop();
      await pool.close();
    },
  };
}
