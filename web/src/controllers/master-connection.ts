/**
 * The dashboard's one connection to the master: a lit reactive controller that opens
 * `/ws`, sends `watch`, folds the `snapshot` and the `delta`s into a
 * {@link DashboardModel} and asks its host to re-render. It reconnects by itself with
 * jittered backoff; every reconnect starts again from a fresh snapshot.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  PROTOCOL_VERSION,
  decodeDashboardMessage,
  type Watch,
} from '../../../shared/protocol.js';
import { DashboardModel } from '../dashboard-model.js';

export const ConnectionState = {
  /** First connection attempt, nothing shown yet. */
  Connecting: 'connecting',
  /** Snapshot received; deltas flowing. */
  Live: 'live',
  /** The socket closed; retrying. The model keeps the last known picture. */
  Reconnecting: 'reconnecting',
} as const;
export type ConnectionState =
  (typeof ConnectionState)[keyof typeof ConnectionState];

export interface MasterConnectionOptions {
  /** WebSocket URL. @defaultValue `ws(s)://<this host>/ws` */
  url?: string;
  /** Reconnect backoff bounds. @defaultValue 500 and 10 000 */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The `ws(s)://` URL of the master that served this page. */
export function masterSocketUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws`;
}

export class MasterConnection implements ReactiveController {
  readonly model = new DashboardModel();
  state: ConnectionState = ConnectionState.Connecting;
  /** Frames that failed validation (kept for the console, never shown raw). */
  rejectedFrames = 0;
  /** This clock minus the master's, measured at the latest message (ms). */
  clockSkewMs = 0;

  readonly #host: ReactiveControllerHost;
  readonly #url: string;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  #socket: WebSocket | null = null;
  #retryTimer: number | undefined;
  #failures = 0;
  #active = false;

  constructor(
    host: ReactiveControllerHost,
    options: MasterConnectionOptions = {},
  ) {
    this.#host = host;
    this.#url = options.url ?? masterSocketUrl(window.location);
    this.#minBackoffMs = options.minBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 10_000;
    host.addController(this);
  }

  /** The master's clock now, estimated from the latest message; 0 before any. */
  masterNow(): number {
    return this.model.loaded ? Date.now() - this.clockSkewMs : 0;
  }

  hostConnected(): void {
    this.#active = true;
    this.#open();
  }

  hostDisconnected(): void {
    this.#active = false;
    window.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000, 'dashboard closed');
  }

  #open(): void {
    if (!this.#active || this.#socket) return;
    const socket = new WebSocket(this.#url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.onopen = () => {
      const watch: Watch = { type: 'watch', protocol: PROTOCOL_VERSION };
      socket.send(JSON.stringify(watch));
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (this.#socket !== socket) return;
      this.#receive(event.data);
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#scheduleRetry();
    };
  }

  #receive(data: string | ArrayBuffer): void {
    const decoded = decodeDashboardMessage(
      typeof data === 'string' ? data : new Uint8Array(data),
    );
    if (!decoded.ok) {
      this.rejectedFrames++;
      console.warn(`colony: ignored a malformed frame: ${decoded.error}`);
      return;
    }
    const message = decoded.value;
    if (message.type === 'snapshot' || message.type === 'delta') {
      this.clockSkewMs = Date.now() - message.at;
    }
    switch (message.type) {
      case 'snapshot':
        this.model.reset(message);
        this.#failures = 0;
        this.state = ConnectionState.Live;
        break;
      case 'delta':
        // A delta before the snapshot cannot be placed: wait for the snapshot.
        if (!this.model.loaded) return;
        this.model.apply(message);
        break;
      case 'challenge':
        // Every socket gets one first; only workers sign it.
        return;
      case 'error':
        // The master refused the watch; the close that follows drives the retry.
        console.warn(`colony: ${message.code}: ${message.message}`);
        return;
    }
    this.#host.requestUpdate();
  }

  #scheduleRetry(): void {
    if (!this.#active) return;
    this.state = ConnectionState.Reconnecting;
    this.#host.requestUpdate();
    this.#failures++;
    const ceiling = Math.min(
      this.#maxBackoffMs,
      this.#minBackoffMs * 2 ** Math.min(this.#failures - 1, 16),
    );
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#retryTimer = window.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, delay);
  }
}
