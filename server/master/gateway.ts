/**
 * The WebSocket layer: bytes -> decode -> scheduler event; commands -> frames. Also the
 * heartbeat (ping/pong: a socket that misses two is terminated), the handshake deadline,
 * and backpressure (a socket that does not drain is dropped, its tasks re-queued).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { encodeFrame } from '../../shared/codec.js';
import { CloseCode, ErrorCode } from '../../shared/errors.js';
import {
  LIMITS,
  PROTOCOL_VERSION,
  decodeWorkerMessage,
  type MasterMessage,
  type Results,
} from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { clientAddress } from './client-address.js';
import type { DashboardFeed } from './dashboard-feed.js';
import type { Runtime, WorkerLink } from './runtime.js';
import type {
  Assignment,
  ReceivedResult,
  WorkerId,
} from './scheduler/types.js';
import {
  buildTasksFrame,
  encodeStored,
  type JobWireInfo,
} from './task-frames.js';

export interface GatewayOptions {
  runtime: Runtime;
  feed: DashboardFeed;
  logger: Logger;
  /** Ping interval; a socket silent for two is terminated. @defaultValue 10 000 */
  heartbeatMs: number;
  /** Largest accepted frame (ws closes with 1009 past it). @defaultValue 64 MiB */
  maxPayloadBytes: number;
  /** Unsent bytes a socket may hold before it is dropped. @defaultValue 64 MiB */
  maxBufferedBytes: number;
  /** Time to send `hello` or `watch` after connecting. @defaultValue 10 000 */
  handshakeMs: number;
}

type Role = 'pending' | 'worker' | 'dashboard';

interface Peer {
  socket: WebSocket;
  role: Role;
  workerId: WorkerId | null;
  /** The client's address (X-Forwarded-For from a trusted proxy, else the TCP peer). */
  address: string;
  isAlive: boolean;
  invalid: number;
  handshakeTimer: NodeJS.Timeout | null;
  /** Results waiting for the commit in flight, acked together in one frame. */
  unacked: { commit: Promise<void>; count: number } | null;
}

/** Malformed messages tolerated (each answered with an error frame) before closing. */
const MAX_INVALID_MESSAGES = 20;
/** Sockets pinged per event-loop turn during a heartbeat round. */
const BEAT_CHUNK = 500;

export interface GatewayCounters {
  connections: number;
  invalidMessages: number;
  framesIn: number;
  framesOut: number;
  heartbeatTimeouts: number;
  slowConsumers: number;
}

export class Gateway implements WorkerLink {
  readonly counters: GatewayCounters = {
    connections: 0,
    invalidMessages: 0,
    framesIn: 0,
    framesOut: 0,
    heartbeatTimeouts: 0,
    slowConsumers: 0,
  };
  #wss: WebSocketServer;
  #options: GatewayOptions;
  #runtime: Runtime;
  #log: Logger;
  #peers = new Set<Peer>();
  #workers = new Map<WorkerId, Peer>();
  #nextWorker = 0;
  #heartbeat: NodeJS.Timeout;
  #accepting = true;
  #beating = false;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#runtime = options.runtime;
    this.#log = options.logger;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#wss.on('error', (error) =>
      this.#log.warn({ err: error }, 'ws server error'),
    );
    this.#runtime.attach(this);
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  get dashboardCount(): number {
    let n = 0;
    for (const peer of this.#peers) if (peer.role === 'dashboard') n++;
    return n;
  }

  /** Called by the HTTP server for `Upgrade: websocket` requests. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws' || !this.#accepting) {
      socket.end(
        this.#accepting
          ? 'HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n'
          : 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n',
      );
      return;
    }
    const address = clientAddress(req);
    this.#wss.handleUpgrade(req, socket, head, (ws) =>
      this.#accept(ws, address),
    );
  }

  /** The address a connected worker comes from (see client-address.ts). */
  addressOf(workerId: WorkerId): string | undefined {
    return this.#workers.get(workerId)?.address;
  }

  #accept(socket: WebSocket, address: string): void {
    this.counters.connections++;
    const peer: Peer = {
      socket,
      role: 'pending',
      workerId: null,
      address,
      isAlive: true,
      invalid: 0,
      handshakeTimer: null,
      unacked: null,
    };
    this.#peers.add(peer);
    peer.handshakeTimer = setTimeout(() => {
      if (peer.role === 'pending') {
        this.#close(
          peer,
          CloseCode.HandshakeRequired,
          'no hello or watch in time',
        );
      }
    }, this.#options.handshakeMs);
    socket.on('pong', () => {
      peer.isAlive = true;
    });
    socket.on('message', (data, isBinary) =>
      this.#onFrame(peer, data, isBinary),
    );
    socket.on('error', (error) => {
      // ws emits protocol errors (bad UTF-8, unmasked frames, oversized) then closes.
      this.#log.debug(
        { err: error.message, workerId: peer.workerId },
        'socket error',
      );
    });
    socket.on('close', (code) => this.#onClose(peer, code));
  }

  #onFrame(peer: Peer, data: RawData, isBinary: boolean): void {
    this.counters.framesIn++;
    // A peer's message can never take the master down: everything below is guarded.
    try {
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data; // no copy: the frame is decoded right here
      const frame = isBinary
        ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
        : bytes.toString('utf8');
      const decoded = decodeWorkerMessage(frame);
      if (!decoded.ok) {
        this.#invalid(peer, decoded.error);
        return;
      }
      const message = decoded.value;
      switch (message.type) {
        case 'hello':
          if (peer.role !== 'pending')
            return this.#invalid(peer, 'hello sent twice');
          if (message.protocol !== PROTOCOL_VERSION) {
            this.#send(peer, {
              type: 'error',
              code: ErrorCode.ProtocolMismatch,
              message: `this master speaks protocol ${PROTOCOL_VERSION}, not ${message.protocol}`,
            });
            this.#close(
              peer,
              CloseCode.ProtocolMismatch,
              `protocol ${message.protocol} unsupported; expected ${PROTOCOL_VERSION}`,
            );
            return;
          }
          this.#becomeWorker(peer, message.kind, message.slots, message.name);
          return;
        case 'watch':
          if (peer.role !== 'pending')
            return this.#invalid(peer, 'watch sent twice');
          if (message.protocol !== PROTOCOL_VERSION) {
            this.#close(
              peer,
              CloseCode.ProtocolMismatch,
              `expected protocol ${PROTOCOL_VERSION}`,
            );
            return;
          }
          this.#clearHandshake(peer);
          peer.role = 'dashboard';
          this.#options.feed.subscribe(peer.socket);
          return;
        case 'ready':
          if (!peer.workerId) return this.#handshakeFirst(peer);
          this.#runtime.dispatch({
            type: 'credit-granted',
            workerId: peer.workerId,
            credit: message.credit,
            at: this.#runtime.now(),
          });
          return;
        case 'results':
          if (!peer.workerId) return this.#handshakeFirst(peer);
          this.#onResults(peer, peer.workerId, message, isBinary);
          if (message.credit) {
            this.#runtime.dispatch({
              type: 'credit-granted',
              workerId: peer.workerId,
              credit: message.credit,
              at: this.#runtime.now(),
            });
          }
          return;
        case 'progress': {
          if (!peer.workerId) return this.#handshakeFirst(peer);
          // Advisory: progress of a lease this worker does not hold (any more) is a
          // normal race, ignored without an error.
          const info = this.#runtime.scheduler.leaseInfo(message.lease);
          if (info?.workerId === peer.workerId)
            this.#options.feed.progress(
              message.lease,
              info.jobId,
              info.index,
              message.fraction,
            );
          return;
        }
      }
    } catch (error) {
      this.#log.error(
        { err: error, workerId: peer.workerId },
        'frame handling failed',
      );
      this.#invalid(peer, 'the master could not handle this message');
    }
  }

  #becomeWorker(
    peer: Peer,
    kind: 'node' | 'browser',
    slots: number,
    name?: string,
  ): void {
    this.#clearHandshake(peer);
    const workerId = `w${++this.#nextWorker}`;
    peer.role = 'worker';
    peer.workerId = workerId;
    this.#workers.set(workerId, peer);
    this.#send(peer, {
      type: 'welcome',
      workerId,
      heartbeatMs: this.#options.heartbeatMs,
      limits: {
        maxPayloadBytes: this.#options.maxPayloadBytes,
        maxBatch: LIMITS.maxBatch,
        maxCredit: LIMITS.maxCredit,
      },
    });
    this.#runtime.dispatch({
      type: 'worker-joined',
      workerId,
      kind,
      name: name ?? `${kind}-${workerId}`,
      slots,
      at: this.#runtime.now(),
    });
  }

  #onResults(
    peer: Peer,
    workerId: WorkerId,
    message: Results,
    isBinary: boolean,
  ): void {
    const { leases, outputs, failures = [] } = message;
    const received: ReceivedResult[] = [];
    for (let i = 0; i < leases.length; i++) {
      const lease = leases[i] as number;
      try {
        // Only a binary frame can carry bytes: a text frame's outputs are plain JSON.
        const output =
          (isBinary ? undefined : JSON.stringify(outputs[i])) ??
          encodeStored(outputs[i]);
        received.push({ lease, ok: true, output, digest: digestOf(output) });
      } catch (error) {
        received.push({
          lease,
          ok: false,
          kind: 'error',
          error: `the output could not be stored: ${(error as Error).message}`,
        });
      }
    }
    for (const failure of failures) received.push({ ...failure, ok: false });
    this.#runtime.dispatch({
      type: 'results-received',
      workerId,
      results: received,
      at: this.#runtime.now(),
    });
    // The ack promises durability: send it only once the store has committed. Frames
    // that share a commit share one ack.
    const commit = this.#runtime.store.commit();
    if (peer.unacked?.commit === commit) {
      peer.unacked.count += received.length;
      return;
    }
    const batch = { commit, count: received.length };
    peer.unacked = batch;
    commit.then(
      () => {
        if (peer.unacked === batch) peer.unacked = null;
        if (peer.socket.readyState === peer.socket.OPEN)
          this.#send(peer, { type: 'ack', count: batch.count });
      },
      (error: unknown) =>
        this.#log.error({ err: error }, 'commit failed; results not acked'),
    );
  }

  #handshakeFirst(peer: Peer): void {
    this.#send(peer, {
      type: 'error',
      code: ErrorCode.HandshakeRequired,
      message: 'send hello (workers) or watch (dashboards) first',
    });
    this.#close(peer, CloseCode.HandshakeRequired, 'hello required first');
  }

  #invalid(peer: Peer, reason: string): void {
    this.counters.invalidMessages++;
    peer.invalid++;
    this.#send(peer, {
      type: 'error',
      code: ErrorCode.InvalidMessage,
      message: reason,
    });
    if (peer.invalid >= MAX_INVALID_MESSAGES) {
      this.#close(peer, CloseCode.InvalidMessage, 'too many invalid messages');
    }
  }

  #clearHandshake(peer: Peer): void {
    if (peer.handshakeTimer) clearTimeout(peer.handshakeTimer);
    peer.handshakeTimer = null;
  }

  #onClose(peer: Peer, code: number): void {
    this.#clearHandshake(peer);
    this.#peers.delete(peer);
    if (peer.role === 'dashboard') this.#options.feed.unsubscribe(peer.socket);
    if (peer.workerId && this.#workers.get(peer.workerId) === peer) {
      this.#workers.delete(peer.workerId);
      this.#runtime.dispatch({
        type: 'worker-left',
        workerId: peer.workerId,
        clean: code === 1000 || code === 1001,
        at: this.#runtime.now(),
      });
    }
  }

  #send(peer: Peer, message: MasterMessage): void {
    this.#sendFrame(peer, encodeFrame(message));
  }

  #sendFrame(peer: Peer, frame: string | Uint8Array): void {
    const { socket } = peer;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.#options.maxBufferedBytes) {
      this.counters.slowConsumers++;
      this.#log.warn({ workerId: peer.workerId }, 'slow consumer dropped');
      this.#close(peer, CloseCode.SlowConsumer, 'send buffer over its cap');
      socket.terminate();
      return;
    }
    this.counters.framesOut++;
    socket.send(frame);
  }

  #close(peer: Peer, code: number, reason: string): void {
    const { socket } = peer;
    if (socket.readyState === socket.OPEN) socket.close(code, reason);
    // A peer that ignores the close handshake is cut off.
    setTimeout(() => socket.terminate(), 2_000).unref();
  }

  /**
   * One heartbeat round. With ~19,000 sockets, pinging all in one synchronous loop
   * stalls the event loop for hundreds of ms, so the round goes in chunks, one chunk
   * per turn, letting frames and timers run in between.
   */
  #beat(): void {
    if (this.#beating) return; // the previous round is still going (huge fleets)
    this.#beating = true;
    const peers = [...this.#peers];
    let at = 0;
    const chunk = (): void => {
      const end = Math.min(peers.length, at + BEAT_CHUNK);
      for (; at < end; at++) this.#beatOne(peers[at] as Peer);
      if (at < peers.length && this.#accepting) setImmediate(chunk);
      else this.#beating = false;
    };
    chunk();
  }

  #beatOne(peer: Peer): void {
    if (!this.#peers.has(peer)) return;
    // A peer that does not drain what it was sent is dropped: its tasks go to others.
    if (peer.socket.bufferedAmount > this.#options.maxBufferedBytes) {
      this.counters.slowConsumers++;
      this.#log.warn({ workerId: peer.workerId }, 'slow consumer dropped');
      peer.socket.terminate();
      return;
    }
    if (!peer.isAlive) {
      this.counters.heartbeatTimeouts++;
      this.#log.info(
        { workerId: peer.workerId },
        'heartbeat missed: terminating',
      );
      peer.socket.terminate();
      return;
    }
    peer.isAlive = false;
    try {
      peer.socket.ping();
    } catch {
      peer.socket.terminate();
    }
  }

  // ---------------------------------------------------------------- WorkerLink

  sendAssignments(workerId: WorkerId, tasks: Assignment[]): void {
    const peer = this.#workers.get(workerId);
    if (!peer) return;
    const jobs = new Map<string, JobWireInfo>();
    const byJob = new Map<string, number[]>();
    for (const task of tasks) {
      let indices = byJob.get(task.jobId);
      if (!indices) {
        indices = [];
        byJob.set(task.jobId, indices);
        const view = this.#runtime.scheduler.jobView(task.jobId);
        if (!view) continue;
        jobs.set(task.jobId, {
          name: view.spec.name,
          moduleHash: view.spec.moduleHash,
          timeoutMs: view.spec.options.timeoutMs,
        });
      }
      indices.push(task.index);
    }
    // Inputs come from the store in one query per job, then go back in task order.
    const inputsByJob = new Map<
      string,
      ReturnType<Runtime['store']['getInputs']>
    >();
    for (const [jobId, indices] of byJob) {
      inputsByJob.set(jobId, this.#runtime.store.getInputs(jobId, indices));
    }
    const cursor = new Map<string, number>();
    const inputs = tasks.map((task) => {
      const at = cursor.get(task.jobId) ?? 0;
      cursor.set(task.jobId, at + 1);
      return inputsByJob.get(task.jobId)?.[at] ?? 'null';
    });
    this.#sendFrame(peer, buildTasksFrame(tasks, inputs, jobs));
  }

  sendCancel(workerId: WorkerId, leases: number[]): void {
    const peer = this.#workers.get(workerId);
    if (peer) this.#send(peer, { type: 'cancel', leases });
  }

  sendReject(
    workerId: WorkerId,
    lease: number,
    code: string,
    message: string,
  ): void {
    const peer = this.#workers.get(workerId);
    if (!peer) return;
    this.counters.invalidMessages++;
    this.#send(peer, {
      type: 'error',
      code: code as ErrorCode,
      message: `lease ${lease}: ${message}`,
    });
  }

  disconnect(workerId: WorkerId, code: number, reason: string): void {
    const peer = this.#workers.get(workerId);
    if (peer) this.#close(peer, code, reason);
  }

  /** Stops accepting, closes every socket with 1001 (going away). */
  shutdown(): void {
    this.#accepting = false;
    clearInterval(this.#heartbeat);
    for (const peer of this.#peers) {
      this.#clearHandshake(peer);
      if (peer.socket.readyState === peer.socket.OPEN) {
        peer.socket.close(CloseCode.GoingAway, 'master shutting down');
      } else {
        peer.socket.terminate();
      }
    }
  }

  /** Ends every socket at once (after shutdown's grace). */
  terminateAll(): void {
    for (const peer of this.#peers) peer.socket.terminate();
  }
}

/**
 * Replicas compare outputs by digest: JSON text is its own digest (no hashing on the
 * hot path), bytes are hashed.
 */
function digestOf(output: string | Uint8Array): string {
  if (typeof output === 'string') return `t:${output}`;
  return `h:${createHash('sha256').update(output).digest('hex')}`;
}
