/**
 * The gateway's heartbeat: every interval each socket is pinged; one that did not answer
 * the last ping (pong), or does not drain what it was sent, is terminated, and its
 * close hands its tasks to others.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { GatewayCounters } from './gateway-messages.js';
import type { WorkerId } from './scheduler/types.js';

/** What the heartbeat needs of a connection. */
export interface BeatingPeer {
  socket: WebSocket;
  /** Answered the last ping (set again by each pong). */
  isAlive: boolean;
  workerId: WorkerId | null;
}

/** Sockets pinged per event-loop turn during a heartbeat round. */
const BEAT_CHUNK = 500;

export class Heartbeat<P extends BeatingPeer> {
  readonly #peers: ReadonlySet<P>;
  readonly #maxBufferedBytes: number;
  readonly #counters: GatewayCounters;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #beating = false;
  #stopped = false;

  constructor(options: {
    /** The live connections (the gateway's own set: peers leave it as they close). */
    peers: ReadonlySet<P>;
    everyMs: number;
    maxBufferedBytes: number;
    counters: GatewayCounters;
    logger: Logger;
  }) {
    this.#peers = options.peers;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#counters = options.counters;
    this.#log = options.logger;
    this.#timer = setInterval(() => this.#beat(), options.everyMs);
    this.#timer.unref();
  }

  /** No more rounds; a round under way stops after its current chunk. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
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
      for (; at < end; at++) this.#beatOne(peers[at] as P);
      if (at < peers.length && !this.#stopped) setImmediate(chunk);
      else this.#beating = false;
    };
    chunk();
  }

  #beatOne(peer: P): void {
    if (!this.#peers.has(peer)) return;
    // A peer that does not drain what it was sent is dropped: its tasks go to others.
    if (peer.socket.bufferedAmount > this.#maxBufferedBytes) {
      this.#counters.slowConsumers++;
      this.#log.warn({ workerId: peer.workerId }, 'slow consumer dropped');
      peer.socket.terminate();
      return;
    }
    if (!peer.isAlive) {
      this.#counters.heartbeatTimeouts++;
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
}
