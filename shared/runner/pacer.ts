/**
 * A thread's CPU share in practice: the {@link DutyCycle} arithmetic plus the sleeps it
 * asks for. The runner rests between tasks; a long task rests inside itself when it
 * calls `ctx.pace()`. The sleeps are timers of the thread itself (a Web Worker's timers
 * are not throttled with a hidden tab, unlike the page's).
 */
import { DutyCycle } from '../duty-cycle.js';

const RESOLVED: Promise<void> = Promise.resolve();

export interface PacerOptions {
  now(): number;
  /** Sleeps `ms`; `wake` ends the sleep early. @defaultValue a timer */
  sleep?(ms: number, wake: Promise<void>): Promise<void>;
  /** Called as a rest starts: results gathered so far leave before the thread sleeps. */
  beforeRest?(now: number): void;
}

const timerSleep = (ms: number, wake: Promise<void>): Promise<void> =>
  Promise.race([
    new Promise<void>((resolve) => {
      setTimeout(resolve, ms);
    }),
    wake,
  ]);

export class Pacer {
  readonly #duty = new DutyCycle(100);
  readonly #now: () => number;
  readonly #sleep: (ms: number, wake: Promise<void>) => Promise<void>;
  readonly #beforeRest: ((now: number) => void) | undefined;
  #wake: (() => void) | null = null;
  #wakePromise: Promise<void> | null = null;
  /** All the rest taken so far, in ms: busy time is measured without it. */
  restedMs = 0;

  constructor(options: PacerOptions) {
    this.#now = options.now;
    this.#sleep = options.sleep ?? timerSleep;
    this.#beforeRest = options.beforeRest;
  }

  /** False at 100%: the runner skips every check then. */
  get active(): boolean {
    return this.#duty.share < 100;
  }

  setShare(percent: number): void {
    this.#duty.setShare(percent, this.#now());
  }

  /** Work starts at `now` (the thread was idle or resting). */
  begin(now: number): void {
    this.#duty.begin(now);
  }

  /** Work stops at `now` (the thread idles). */
  end(now: number): void {
    this.#duty.end(now);
  }

  /** Rest to take at `now`, in ms (0: none yet). */
  due(now: number): number {
    return this.#duty.restDue(now);
  }

  /** Rests `ms` from `now`; resolves with the time it woke. */
  async rest(now: number, ms: number): Promise<number> {
    this.#duty.end(now);
    this.#beforeRest?.(now);
    this.#wakePromise ??= new Promise<void>(
      (resolve) => (this.#wake = resolve),
    );
    await this.#sleep(ms, this.#wakePromise);
    const woke = this.#now();
    this.restedMs += woke - now;
    this.#duty.begin(woke);
    return woke;
  }

  /** Ends a sleep under way (the thread is told to hold: it should answer now). */
  wake(): void {
    this.#wake?.();
    this.#wake = null;
    this.#wakePromise = null;
  }

  /** `ctx.pace()`: rests now if rest is due, else resolves at once. */
  pace = (): Promise<void> => {
    if (!this.active) return RESOLVED;
    const now = this.#now();
    const ms = this.#duty.restDue(now);
    return ms > 0 ? this.rest(now, ms).then(() => undefined) : RESOLVED;
  };
}
