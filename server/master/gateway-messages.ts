/**
 * The gateway's message handling: one frame from a peer -> decode -> the runtime's event
 * (or a handshake step). It never touches a socket itself: sending, closing and admitting
 * go through `Connections`, which the gateway implements.
 */
import type { RawData } from 'ws';
import { CloseCode, ErrorCode } from '../../shared/errors.js';
import {
  PROTOCOL_VERSION,
  decodeWorkerMessage,
  type Hello,
  type MasterMessage,
  type Results,
  type Watch,
  type WorkerMessage,
  type WorkerSandbox,
} from '../../shared/protocol.js';
import { stripControlsLine } from '../../shared/sanitize.js';
import type { Logger } from '../log.js';
import { scanResultsFrame } from './results-text.js';
import type { Lease, SchedulerEvent, WorkerId } from './scheduler/types.js';
import { checkVolunteer } from './volunteer-auth.js';

/** Malformed messages tolerated (each answered with an error frame) before closing. */
const MAX_INVALID_MESSAGES = 20;

/** How a worker's session writes a results frame: such frames take the scanning path. */
const RESULTS_PREFIX = '{"type":"results"';

export type Role = 'pending' | 'worker' | 'dashboard';

/** A connection's state as message handling sees it. */
export interface PeerState {
  role: Role;
  workerId: WorkerId | null;
  /** Malformed messages received so far. */
  invalid: number;
  /** The `challenge` nonce sent on connect: `hello` must sign it. */
  nonce: string;
  /** The `Host` the client dialled: `hello` signs it too. */
  host: string;
  /** The client's network address (client-address.ts): replicas need distinct ones. */
  address: string;
}

export interface GatewayCounters {
  connections: number;
  invalidMessages: number;
  framesIn: number;
  framesOut: number;
  heartbeatTimeouts: number;
  slowConsumers: number;
  /** Upgrades refused by a per-address cap (HTTP 429). */
  refusedPerAddress: number;
}

/** What message handling may do to a connection (implemented by the gateway). */
export interface Connections<P extends PeerState> {
  send(peer: P, message: MasterMessage): void;
  close(peer: P, code: number, reason: string): void;
  /** Makes the peer a worker and sends it `welcome`; returns its id. */
  admitWorker(peer: P): WorkerId;
  /** Makes the peer a dashboard: it gets the feed from now on. */
  admitDashboard(peer: P): void;
}

/** Where frames go once decoded (implemented by the runtime). */
export interface FrameSink {
  now(): number;
  dispatch(event: SchedulerEvent): void;
  /** @param storedOutputs `message.outputs` as their JSON texts, when the frame was scanned */
  receiveResults(
    workerId: WorkerId,
    message: Results,
    isBinary: boolean,
    storedOutputs?: readonly string[],
  ): void;
  receiveProgress(workerId: WorkerId, lease: Lease, fraction: number): void;
  receiveCheckpoint(
    workerId: WorkerId,
    lease: Lease,
    state: unknown,
    isBinary: boolean,
  ): void;
}

/**
 * The sandbox a worker is shown with: what a Node worker's `hello` says (if it says),
 * `browser` for a tab whatever it claims (its tasks run in Web Workers).
 */
export function sandboxOf(hello: Hello): { sandbox?: WorkerSandbox } {
  if (hello.kind === 'browser') return { sandbox: 'browser' };
  return hello.sandbox ? { sandbox: hello.sandbox } : {};
}

export class MessageHandler<P extends PeerState> {
  readonly #connections: Connections<P>;
  readonly #sink: FrameSink;
  readonly #counters: GatewayCounters;
  readonly #log: Logger;

  constructor(options: {
    connections: Connections<P>;
    sink: FrameSink;
    counters: GatewayCounters;
    logger: Logger;
  }) {
    this.#connections = options.connections;
    this.#sink = options.sink;
    this.#counters = options.counters;
    this.#log = options.logger;
  }

  /** One frame from a peer. A peer's message can never take the master down. */
  onFrame(peer: P, data: RawData, isBinary: boolean): void {
    this.#counters.framesIn++;
    try {
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data; // no copy: the frame is decoded right here
      const frame = isBinary
        ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
        : bytes.toString('utf8');
      if (typeof frame === 'string' && frame.startsWith(RESULTS_PREFIX)) {
        const scanned = scanResultsFrame(frame);
        if (scanned && peer.workerId) {
          this.#sink.receiveResults(
            peer.workerId,
            scanned.message,
            false,
            scanned.outputs,
          );
          return;
        }
      }
      const decoded = decodeWorkerMessage(frame);
      if (!decoded.ok) {
        this.#invalid(peer, decoded.error);
        return;
      }
      this.#onMessage(peer, decoded.value, isBinary);
    } catch (error) {
      this.#log.error(
        { err: error, workerId: peer.workerId },
        'frame handling failed',
      );
      this.#invalid(peer, 'the master could not handle this message');
    }
  }

  #onMessage(peer: P, message: WorkerMessage, isBinary: boolean): void {
    switch (message.type) {
      case 'hello':
        return this.#onHello(peer, message);
      case 'watch':
        return this.#onWatch(peer, message);
      case 'ready':
        if (!peer.workerId) return this.#handshakeFirst(peer);
        this.#sink.dispatch({
          type: 'credit-granted',
          workerId: peer.workerId,
          credit: message.credit,
          at: this.#sink.now(),
        });
        return;
      case 'results':
        if (!peer.workerId) return this.#handshakeFirst(peer);
        this.#sink.receiveResults(peer.workerId, message, isBinary);
        return;
      case 'progress':
        if (!peer.workerId) return this.#handshakeFirst(peer);
        this.#sink.receiveProgress(
          peer.workerId,
          message.lease,
          message.fraction,
        );
        return;
      case 'checkpoint':
        if (!peer.workerId) return this.#handshakeFirst(peer);
        this.#sink.receiveCheckpoint(
          peer.workerId,
          message.lease,
          message.state,
          isBinary,
        );
        return;
    }
  }

  #onHello(peer: P, message: Hello): void {
    if (peer.role !== 'pending') return this.#invalid(peer, 'hello sent twice');
    if (message.protocol !== PROTOCOL_VERSION) {
      this.#connections.send(peer, {
        type: 'error',
        code: ErrorCode.ProtocolMismatch,
        message: `this master speaks protocol ${PROTOCOL_VERSION}, not ${message.protocol}`,
      });
      this.#connections.close(
        peer,
        CloseCode.ProtocolMismatch,
        `protocol ${message.protocol} unsupported; expected ${PROTOCOL_VERSION}`,
      );
      return;
    }
    const identity = message.volunteer
      ? checkVolunteer(message.volunteer, peer.host, peer.nonce)
      : ({ ok: false, reason: 'hello.volunteer is required' } as const);
    if (!identity.ok) {
      this.#connections.send(peer, {
        type: 'error',
        code: ErrorCode.BadIdentity,
        message: identity.reason,
      });
      this.#connections.close(peer, CloseCode.BadIdentity, identity.reason);
      return;
    }
    const workerId = this.#connections.admitWorker(peer);
    this.#sink.dispatch({
      type: 'worker-joined',
      workerId,
      kind: message.kind,
      // A stranger's name goes to terminals and the dashboard: one clean line.
      name:
        stripControlsLine(message.name ?? '') || `${message.kind}-${workerId}`,
      slots: message.slots,
      volunteer: identity.volunteer,
      address: peer.address,
      ...sandboxOf(message),
      resumes: message.resumes === true,
      ...(message.standing ? { wantsStanding: true } : {}),
      at: this.#sink.now(),
    });
  }

  #onWatch(peer: P, message: Watch): void {
    if (peer.role !== 'pending') return this.#invalid(peer, 'watch sent twice');
    if (message.protocol !== PROTOCOL_VERSION) {
      this.#connections.close(
        peer,
        CloseCode.ProtocolMismatch,
        `expected protocol ${PROTOCOL_VERSION}`,
      );
      return;
    }
    this.#connections.admitDashboard(peer);
  }

  #handshakeFirst(peer: P): void {
    this.#connections.send(peer, {
      type: 'error',
      code: ErrorCode.HandshakeRequired,
      message: 'send hello (workers) or watch (dashboards) first',
    });
    this.#connections.close(
      peer,
      CloseCode.HandshakeRequired,
      'hello required first',
    );
  }

  /** Answers a malformed message; too many of them close the connection. */
  #invalid(peer: P, reason: string): void {
    this.#counters.invalidMessages++;
    peer.invalid++;
    this.#connections.send(peer, {
      type: 'error',
      code: ErrorCode.InvalidMessage,
      message: reason,
    });
    if (peer.invalid >= MAX_INVALID_MESSAGES) {
      this.#connections.close(
        peer,
        CloseCode.InvalidMessage,
        'too many invalid messages',
      );
    }
  }
}
