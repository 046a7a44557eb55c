/**
 * The worker's prefetch window: how many tasks it asks the master to keep in flight
 * to it. Sized to hold `targetQueueMs` of work at the measured task rate (plus one per
 * slot): tiny tasks ride many to a frame, slow ones stay at two per slot, so a slow
 * worker never sits on work that idle workers could take.
 */

/** Shortest interval over which the task rate is measured. */
const MEASURE_MS = 50;
/** The finest task time the threads measure (their busy times are in µs). */
const MIN_TASK_MS = 0.001;
/**
 * Tasks per slot the first rate measurement needs: a first job's first tasks wait for
 * their module to be fetched and compiled, so that the few of its first 50 ms say
 * nothing of the pace to come (busy times size the window until then).
 */
const FIRST_MEASURE_TASKS = 8;

export interface CreditWindowOptions {
  slots: number;
  targetQueueMs: number;
  maxWindow: number;
  /** A fixed window; disables adaptation. */
  fixedWindow?: number | undefined;
}

export class CreditWindow {
  /** Credit the master believes we have (granted minus tasks received). */
  creditOut = 0;
  #window: number;
  /** Smoothed completions per ms while busy (0: not measured yet). */
  #ratePerMs = 0;
  /** Start of the current measurement while busy (0: idle). */
  #busySince = 0;
  #completedSinceMeasure = 0;
  readonly #options: CreditWindowOptions;

  constructor(options: CreditWindowOptions) {
    this.#options = { ...options };
    this.#window = options.fixedWindow ?? options.slots * 2;
  }

  /** The thread count changed: the window keeps its share per slot. */
  setSlots(slots: number): void {
    const before = this.#options.slots;
    if (slots === before || slots < 1) return;
    this.#options.slots = slots;
    if (this.#options.fixedWindow !== undefined) return;
    this.#window = Math.min(
      this.#options.maxWindow,
      Math.max(slots * 2, Math.round((this.#window * slots) / before)),
    );
  }

  /** `count` tasks arrived from the master at `now`. */
  received(count: number, now: number): void {
    this.creditOut = Math.max(0, this.creditOut - count);
    if (this.#busySince === 0) this.#busySince = now;
  }

  /** True until the task rate is first measured: {@link busy} has a use until then. */
  get wantsBusy(): boolean {
    return this.#ratePerMs === 0 && this.#options.fixedWindow === undefined;
  }

  /**
   * `count` tasks took `busyMs` in all, as the threads measured them. Until the rate is
   * measured (over {@link MEASURE_MS} of busy time), this sizes the window: a fresh
   * session's window would otherwise grow only by doubling each time it runs dry, one
   * round trip through the master per step, a dozen steps from 2 tasks to thousands of
   * tiny ones (hundreds of ms at the start of each first job, as the master's
   * allowance ramps up too). Busy time leaves out every per-task overhead, so it
   * overestimates the pace of tiny tasks: the window is capped, and the measured rate
   * takes over; slow tasks keep their small window.
   */
  busy(count: number, busyMs: number): void {
    if (count <= 0 || !this.wantsBusy || !(busyMs >= 0)) return;
    const { targetQueueMs, slots, maxWindow } = this.#options;
    const taskMs = Math.max(busyMs / count, MIN_TASK_MS);
    const wanted = Math.ceil((slots / taskMs) * targetQueueMs) + slots;
    if (wanted > this.#window) this.#window = Math.min(maxWindow, wanted);
  }

  /** `count` tasks finished at `now`, leaving `pending` held. */
  completed(count: number, now: number, pending: number): void {
    this.#measure(now, count, pending);
    if (pending > 0) return;
    // Idle time is not task time: measure again from the next batch.
    this.#busySince = 0;
    this.#completedSinceMeasure = 0;
    // Ran dry while the master owed us nothing: the window was too small to cover
    // the round trip. Grow it; `#measure` trims it again for slow tasks.
    if (this.creditOut === 0 && this.#options.fixedWindow === undefined)
      this.#window = Math.min(this.#options.maxWindow, this.#window * 2);
  }

  /** Credit to grant now to top the master's view back up to the window (0: none). */
  due(pending: number): number {
    if (!this.wants(pending)) return 0;
    const want = this.#window - this.creditOut - pending;
    this.creditOut += want;
    return want;
  }

  /** Whether {@link due} would grant credit now (it changes nothing). */
  wants(pending: number): boolean {
    const want = this.#window - this.creditOut - pending;
    // Grant in chunks, not one by one, so that credit frames stay rare.
    return want > 0 && (want >= Math.max(1, this.#window / 4) || pending === 0);
  }

  #measure(now: number, completed: number, pending: number): void {
    this.#completedSinceMeasure += completed;
    const elapsed = now - this.#busySince;
    if (this.#busySince === 0 || elapsed < MEASURE_MS) return;
    const first = this.#ratePerMs === 0;
    const slots = this.#options.slots;
    if (first && this.#completedSinceMeasure < FIRST_MEASURE_TASKS * slots)
      return;
    const rate = this.#completedSinceMeasure / elapsed;
    this.#ratePerMs = first ? rate : this.#ratePerMs * 0.7 + rate * 0.3;
    this.#busySince = now;
    this.#completedSinceMeasure = 0;
    const { fixedWindow, targetQueueMs, maxWindow } = this.#options;
    if (fixedWindow !== undefined) return;
    const wanted = Math.ceil(this.#ratePerMs * targetQueueMs) + slots;
    // Grow at once; shrink only when clearly too big, so that the window does not flap
    // between this estimate and the doubling on running dry. Too big means sitting on
    // work (slow tasks): over twice what is wanted is held. A rate measured while the
    // tasks came in slower than they ran (a first job, while the master's allowance
    // ramps up) says nothing of the window's size.
    const tooBig = wanted < this.#window / 2 && pending > wanted * 2;
    if (wanted > this.#window || tooBig)
      this.#window = Math.min(maxWindow, Math.max(slots * 2, wanted));
  }
}
