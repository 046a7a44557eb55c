/**
 * The WebSocket layer's connection lifecycle: upgrade, the handshake deadline, the
 * heartbeat (gateway-heartbeat.ts: a socket that misses two pings is terminated),
 * backpressure (a socket that does not drain is dropped, its tasks re-queued) and close. Frames in go to the
 * message handler (gateway-messages.ts); the runtime's commands come back out as frames.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeFrame } from '../../shared/codec.js';
import { CloseCode, type ErrorCode } from '../../shared/errors.js';
import {
  LIMITS,
  type MasterMessage,
  type Standing,
} from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { clientAddress } from './client-address.js';
import {
  AddressLimits,
  HANDSHAKE_MAX_PAYLOAD,
  raiseMaxPayload,
  tooManyResponse,
  type AddressLimitOptions,
  type AddressTicket,
} from './gateway-limits.js';
import type { DashboardFeed } from './dashboard-feed.js';
import { Heartbeat } from './gateway-heartbeat.js';
import {
  MessageHandler,
  type Connections,
  type GatewayCounters,
  type PeerState,
} from './gateway-messages.js';
import type { Runtime, WorkerLink } from './runtime.js';
import type { Lease, WorkerId } from './scheduler/types.js';
import { encodeTasksFrame, type DispatchBatch } from './task-frames.js';
import { newNonce } from './volunteer-auth.js';

export type { GatewayCounters };

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
  /** Per client address caps. @defaultValue 256 connections, 32 pending handshakes */
  addressLimits: AddressLimitOptions;
}

interface Peer extends PeerState {
  socket: WebSocket;
  isAlive: boolean;
  handshakeTimer: NodeJS.Timeout | null;
  ticket: AddressTicket;
}

/** The `ws` error code of a frame over `maxPayload`. */
const OVERSIZED = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

export class Gateway implements WorkerLink, Connections<Peer> {
  readonly counters: GatewayCounters = {
    connections: 0,
    invalidMessages: 0,
    framesIn: 0,
    framesOut: 0,
    heartbeatTimeouts: 0,
    slowConsumers: 0,
    refusedPerAddress: 0,
  };
  #wss: WebSocketServer;
  #options: GatewayOptions;
  #runtime: Runtime;
  #log: Logger;
  #messages: MessageHandler<Peer>;
  #peers = new Set<Peer>();
  #workers = new Map<WorkerId, Peer>();
  #nextWorker = 0;
  #heartbeat: Heartbeat<Peer>;
  #accepting = true;
  #limits: AddressLimits;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#runtime = options.runtime;
    this.#log = options.logger;
    this.#limits = new AddressLimits(options.addressLimits);
    this.#wss = new WebSocketServer({
      noServer: true,
      // Until `hello`, a frame over 64 KiB is refused from its header, unbuffered;
      // a worker's socket is raised to maxPayloadBytes when it is admitted.
      maxPayload: Math.min(HANDSHAKE_MAX_PAYLOAD, options.maxPayloadBytes),
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#wss.on('error', (error) =>
      this.#log.warn({ err: error }, 'ws server error'),
    );
    this.#messages = new MessageHandler({
      connections: this,
      sink: options.runtime,
      counters: this.counters,
      logger: options.logger,
    });
    this.#runtime.attach(this);
    this.#heartbeat = new Heartbeat({
      peers: this.#peers,
      everyMs: options.heartbeatMs,
      maxBufferedBytes: options.maxBufferedBytes,
      counters: this.counters,
      logger: options.logger,
    });
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
    const host = req.headers.host ?? '';
    const ticket = this.#limits.open(address);
    if (typeof ticket === 'string') {
      this.counters.refusedPerAddress++;
      socket.end(tooManyResponse(ticket));
      return;
    }
    // Counted until the TCP connection is gone, however the upgrade ends.
    socket.once('close', () => this.#limits.release(ticket));
    this.#wss.handleUpgrade(req, socket, head, (ws) =>
      this.#accept(ws, address, ticket, host),
    );
  }

  /** The address a connected worker comes from (see client-address.ts). */
  addressOf(workerId: WorkerId): string | undefined {
    return this.#workers.get(workerId)?.address;
  }

  #accept(
    socket: WebSocket,
    address: string,
    ticket: AddressTicket,
    host: string,
  ): void {
    this.counters.connections++;
    const peer: Peer = {
      socket,
      role: 'pending',
      workerId: null,
      address,
      host,
      nonce: newNonce(),
      isAlive: true,
      invalid: 0,
      handshakeTimer: null,
      ticket,
    };
    this.#peers.add(peer);
    // First frame on every socket: a worker signs this nonce in its `hello`.
    this.send(peer, { type: 'challenge', nonce: peer.nonce });
    peer.handshakeTimer = setTimeout(() => {
      if (peer.role === 'pending') {
        this.close(
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
      this.#messages.onFrame(peer, data, isBinary),
    );
    socket.on('error', (error) => {
      // ws emits protocol errors (bad UTF-8, unmasked frames, oversized) then closes,
      // reading on until the peer answers the close. An oversized frame's sender is
      // cut off at once instead: its payload is not worth reading to throw away.
      this.#log.debug(
        { err: error.message, workerId: peer.workerId },
        'socket error',
      );
      if ((error as { code?: string }).code === OVERSIZED)
        setImmediate(() => socket.terminate());
    });
    socket.on('close', (code) => this.#onClose(peer, code));
  }

  // ---------------------------------------------------------------- Connections

  admitWorker(peer: Peer): WorkerId {
    this.#clearHandshake(peer);
    raiseMaxPayload(peer.socket, this.#options.maxPayloadBytes);
    const workerId = `w${++this.#nextWorker}` as WorkerId;
    peer.role = 'worker';
    peer.workerId = workerId;
    this.#workers.set(workerId, peer);
    this.send(peer, {
      type: 'welcome',
      workerId,
      heartbeatMs: this.#options.heartbeatMs,
      limits: {
        maxPayloadBytes: this.#options.maxPayloadBytes,
        maxBatch: LIMITS.maxBatch,
        maxCredit: LIMITS.maxCredit,
      },
    });
    return workerId;
  }

  admitDashboard(peer: Peer): void {
    this.#clearHandshake(peer);
    peer.role = 'dashboard';
    this.#options.feed.subscribe(peer.socket);
  }

  send(peer: Peer, message: MasterMessage): void {
    this.#sendFrame(peer, encodeFrame(message));
  }

  close(peer: Peer, code: number, reason: string): void {
    const { socket } = peer;
    if (socket.readyState === socket.OPEN) socket.close(code, reason);
    // A peer that ignores the close handshake is cut off.
    setTimeout(() => socket.terminate(), 2_000).unref();
  }

  // ---------------------------------------------------------------- lifecycle

  #clearHandshake(peer: Peer): void {
    if (peer.handshakeTimer) clearTimeout(peer.handshakeTimer);
    peer.handshakeTimer = null;
    this.#limits.admitted(peer.ticket);
  }

  #onClose(peer: Peer, code: number): void {
    this.#clearHandshake(peer);
    this.#limits.release(peer.ticket);
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

  #sendFrame(
    peer: Peer,
    frame: string | Uint8Array,
    binary = typeof frame !== 'string',
  ): void {
    const { socket } = peer;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.#options.maxBufferedBytes) {
      this.counters.slowConsumers++;
      this.#log.warn({ workerId: peer.workerId }, 'slow consumer dropped');
      this.close(peer, CloseCode.SlowConsumer, 'send buffer over its cap');
      socket.terminate();
      return;
    }
    this.counters.framesOut++;
    socket.send(frame, { binary });
  }

  // ---------------------------------------------------------------- WorkerLink

  sendTasks(workerId: WorkerId, batch: DispatchBatch): void {
    const peer = this.#workers.get(workerId);
    if (!peer) return;
    // A text frame comes as its UTF-8 bytes, sent as they are.
    const { data, binary } = encodeTasksFrame(
      batch.tasks,
      batch.inputs,
      batch.jobs,
      batch.resumes,
      batch.joined,
    );
    this.#sendFrame(peer, data, binary);
  }

  sendAck(workerId: WorkerId, count: number): void {
    const peer = this.#workers.get(workerId);
    if (peer) this.send(peer, { type: 'ack', count });
  }

  sendCancel(workerId: WorkerId, leases: Lease[]): void {
    const peer = this.#workers.get(workerId);
    if (peer) this.send(peer, { type: 'cancel', leases });
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
    this.send(peer, {
      type: 'error',
      code: code as ErrorCode,
      message: `lease ${lease}: ${message}`,
    });
  }

  sendStanding(workerId: WorkerId, standing: Standing): void {
    const peer = this.#workers.get(workerId);
    if (peer) this.send(peer, standing);
  }

  disconnect(workerId: WorkerId, code: number, reason: string): void {
    const peer = this.#workers.get(workerId);
    if (peer) this.close(peer, code, reason);
  }

  /** Stops accepting, closes every socket with 1001 (going away). */
  shutdown(): void {
    this.#accepting = false;
    this.#heartbeat.stop();
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
