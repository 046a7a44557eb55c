/**
 * Wake-ups from other masters: one connection LISTENs on the inputs and cancel channels
 * and turns notifications into hints. Notifications are hints only: they are lost while
 * the connection is down, so a bounded poll (`pollMs`) and a `poll` hint after every
 * reconnect make the master look at the database anyway.
 */
import pg from 'pg';
import { JobId } from '../../../../shared/protocol.js';
import type { ClusterHint } from './cluster-store.js';
import { CHANNEL_CANCEL, CHANNEL_INPUTS } from './pg-jobs.js';

export interface ListenerOptions {
  url: string;
  onHint: (hint: ClusterHint) => void;
  /** Called with connection errors (then it reconnects); the master logs them. */
  onError?: (error: Error) => void;
  /** Fallback poll period. @defaultValue 2 000 */
  pollMs?: number;
  /** Longest wait between reconnect attempts. @defaultValue 5 000 */
  maxBackoffMs?: number;
}

export class ClusterListener {
  readonly #options: ListenerOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  readonly #poll: NodeJS.Timeout;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#poll = setInterval(
      () => options.onHint({ type: 'poll' }),
      options.pollMs ?? 2_000,
    );
    this.#poll.unref();
  }

  /** Connects and listens; resolves once listening (or rejects on the first failure). */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    client.on('notification', (message) => {
      // A hint names a job; one that is no job id could name nothing stored.
      const parsed = JobId.safeParse(message.payload);
      if (!parsed.success) return;
      const jobId = parsed.data;
      if (message.channel === CHANNEL_INPUTS) {
        this.#options.onHint({ type: 'inputs', jobId });
      } else if (message.channel === CHANNEL_CANCEL) {
        this.#options.onHint({ type: 'cancel', jobId });
      }
    });
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL_INPUTS}; LISTEN ${CHANNEL_CANCEL}`);
    } catch (error) {
      // Forgotten first, so that its late 'error'/'end' events start no second retry.
      this.#client = undefined;
      client.end().catch(() => undefined);
      throw error;
    }
    this.#failures = 0;
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = undefined;
    this.#options.onError?.(error);
    client.end().catch(() => undefined);
    this.#reconnect();
  }

  #reconnect(): void {
    // Jittered exponential backoff, so masters cut off together do not reconnect together.
    const max = this.#options.maxBackoffMs ?? 5_000;
    const delay =
      Math.min(max, 100 * 2 ** this.#failures) * (0.5 + Math.random() / 2);
    this.#failures++;
    this.#retry = setTimeout(() => {
      this.start().then(
        () => this.#options.onHint({ type: 'poll' }),
        (error: unknown) => {
          this.#options.onError?.(error as Error);
          if (!this.#closed) this.#reconnect();
        },
      );
    }, delay);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end();
  }
}
