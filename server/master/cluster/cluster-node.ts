/**
 * A master's life in a cluster (docs/multi-master.md, "A master over claimed batches"):
 * presence heartbeat and takeover of dead masters' claims, claims sized by the workers'
 * demand, lost claims dropped, and hints (new inputs, cancels, polls) from the other
 * masters. Claims and heartbeats run one after another (never overlapping), so no claim
 * answered after a `lapsed` heartbeat predates it.
 */
import type { Logger } from '../../log.js';
import type { Runtime } from '../runtime.js';
import type { JobId, JobSpec } from '../scheduler/types.js';
import type {
  ClaimedTask,
  ClusterHint,
  ClusterStore,
  RecordBatchResult,
  RecordEntry,
} from '../store/postgres/cluster-store.js';
import { ClaimAhead } from './claim-ahead.js';
import type { ClaimedStore } from './claimed-store.js';

export interface ClusterNodeOptions {
  store: ClusterStore;
  claimed: ClaimedStore;
  runtime: Runtime;
  master: string;
  logger: Logger;
  /** What other masters' dashboards show of this one's workers. */
  workersSummary: () => unknown;
  /** @defaultValue 1 000 */
  heartbeatMs?: number;
  /** Claims of a master silent this long are taken over. @defaultValue 5 000 */
  ttlMs?: number;
  /** Most tasks per claim. @defaultValue 1 024 */
  claimCap?: number;
}

/** Ended jobs whose local copy (errors, backups shown) is kept. */
const LOCAL_ENDED_JOBS = 64;

export interface ClusterCounters {
  claimed: number;
  lost: number;
  fenced: number;
  takenOver: number;
}

export class ClusterNode {
  readonly counters: ClusterCounters = {
    claimed: 0,
    lost: 0,
    fenced: 0,
    takenOver: 0,
  };
  readonly #o: Required<ClusterNodeOptions>;
  readonly #ahead: ClaimAhead;
  #address = '';
  #chain: Promise<void> = Promise.resolve();
  #claiming = false;
  #again = false;
  #checkQueued = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #specs = new Map<JobId, JobSpec>();
  /** Ended jobs still known to the local scheduler, oldest end first. */
  readonly #retired = new Set<JobId>();

  constructor(options: ClusterNodeOptions) {
    this.#o = {
      heartbeatMs: 1_000,
      ttlMs: 5_000,
      claimCap: 1_024,
      ...options,
    };
    this.#ahead = new ClaimAhead(this.#o.claimCap);
    options.runtime.on('job-finished', (jobId: JobId) => this.#retire(jobId));
  }

  get ttlMs(): number {
    return this.#o.ttlMs;
  }

  /** First heartbeat (a master claims nothing before it), then one every `heartbeatMs`. */
  async start(address: string): Promise<void> {
    this.#address = address;
    await this.#serial(() => this.#beat());
    this.#timer = setInterval(() => {
      void this.#serial(() => this.#beat());
    }, this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** Something may have raised the workers' demand: claim, at most once per turn. */
  wantClaim(): void {
    if (this.#closed || this.#checkQueued) return;
    this.#checkQueued = true;
    setImmediate(() => {
      this.#checkQueued = false;
      if (this.#want() > 0) this.#claimSoon();
    });
  }

  hint(hint: ClusterHint): void {
    if (this.#closed) return;
    switch (hint.type) {
      case 'inputs':
        this.wantClaim();
        return;
      case 'cancel':
        void this.#checkJob(hint.jobId);
        return;
      case 'poll':
        this.wantClaim();
        for (const view of this.#o.runtime.scheduler.jobViews()) {
          if (view.state === 'running') void this.#checkJob(view.spec.id);
        }
        return;
    }
  }

  /** What a record batch decided: fenced entries are another master's now. */
  recorded(entries: readonly RecordEntry[], result: RecordBatchResult): void {
    const fenced = result.accepted.filter((ok) => !ok).length;
    this.#ahead.recorded(entries.length - fenced, Date.now());
    if (fenced > 0) {
      this.counters.fenced += fenced;
      this.#o.logger.warn(
        { fenced, of: entries.length },
        'records fenced: those claims were taken over',
      );
    }
    for (const jobId of result.completed) this.#ended(jobId, 'completed');
    this.wantClaim();
  }

  /** Clean stop: stop claiming, give claims back, leave the presence table. */
  async stop(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#chain;
    const { store, master } = this.#o;
    await store.releaseAll(master);
    await store.leave(master);
  }

  #claimSoon(): void {
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    this.#claiming = true;
    void this.#serial(() => this.#claimLoop()).finally(() => {
      this.#claiming = false;
      if (this.#again) {
        this.#again = false;
        this.wantClaim();
      }
    });
  }

  async #claimLoop(): Promise<void> {
    const { store, master, claimCap } = this.#o;
    for (;;) {
      if (this.#closed) return;
      const n = Math.min(claimCap, this.#want());
      if (n <= 0) return;
      const starved = this.#starved();
      const asked = Date.now();
      const tasks = await store.claim(master, n);
      // An empty answer says nothing of the sizing: there was nothing to claim.
      this.#ahead.claimed(
        Date.now() - asked,
        starved && tasks.length > 0,
        tasks.length,
      );
      if (tasks.length === 0) return;
      this.counters.claimed += tasks.length;
      await this.#open(tasks);
      if (tasks.length < n) return;
    }
  }

  /**
   * Workers want tasks and some of their threads have none: they wait for this claim.
   * (Threads, not workers: a worker that still runs one task while its other threads
   * wait is starved too, and at a job's start that is the usual case.)
   */
  #starved(): boolean {
    const { scheduler } = this.#o.runtime;
    if (scheduler.demand() <= 0) return false;
    const active = scheduler.activeLeases;
    if (active === 0) return true;
    let slots = 0;
    for (const worker of scheduler.workerViews()) {
      slots += worker.slots;
      if (slots > active) return true;
    }
    return false;
  }

  /** Tasks to claim now: the workers' unmet credit, and a little ahead of it. */
  #want(): number {
    return this.#ahead.toClaim(this.#o.runtime.scheduler.demand());
  }

  /** Hands claimed tasks to the scheduler, job by job, with their module at hand. */
  async #open(tasks: readonly ClaimedTask[]): Promise<void> {
    const { claimed, runtime, store, master } = this.#o;
    const byJob = new Map<JobId, ClaimedTask[]>();
    for (const task of tasks) {
      const list = byJob.get(task.jobId) ?? [];
      list.push(task);
      byJob.set(task.jobId, list);
    }
    for (const [jobId, list] of byJob) {
      try {
        const spec = await this.#spec(jobId);
        if (spec === undefined) throw new Error(`job ${jobId} vanished`);
        for (const task of list) claimed.hold(task);
        runtime.dispatch({
          type: 'tasks-claimed',
          job: spec,
          tasks: list.map(({ index, attempts, deaths }) => ({
            index,
            attempts,
            deaths,
          })),
          at: runtime.now(),
        });
      } catch (error) {
        this.#o.logger.error({ err: error, jobId }, 'claimed tasks not opened');
        claimed.drop(
          jobId,
          list.map((t) => t.index),
        );
        await store.release(master, list).catch(() => 0);
      }
    }
  }

  /** The job's spec (cached) with its module loaded. */
  async #spec(jobId: JobId): Promise<JobSpec | undefined> {
    const cached = this.#specs.get(jobId);
    if (cached) return cached;
    const row = await this.#o.store.getJob(jobId);
    if (row === undefined) return undefined;
    const { claimed, store } = this.#o;
    if (!claimed.hasModule(row.spec.moduleHash)) {
      const source = await store.getModule(row.spec.moduleHash);
      if (source === undefined) throw new Error(`job ${jobId}: no module`);
      claimed.putModule(row.spec.moduleHash, source);
    }
    this.#specs.set(jobId, row.spec);
    return row.spec;
  }

  async #beat(): Promise<void> {
    const { store, master, ttlMs, logger } = this.#o;
    try {
      const { lapsed } = await store.heartbeat(
        master,
        this.#address,
        this.#o.workersSummary(),
      );
      if (lapsed) this.#loseAll();
      const taken = await store.takeOverExpired(ttlMs);
      if (taken > 0) {
        this.counters.takenOver += taken;
        logger.warn({ tasks: taken }, 'took over claims of a silent master');
        // Serialised behind this beat: the claim runs next.
        this.#claimSoon();
      }
    } catch (error) {
      logger.error({ err: error }, 'heartbeat failed');
    }
  }

  /** This master was presumed dead: every claim it held is another's now. */
  #loseAll(): void {
    const { claimed, runtime, logger } = this.#o;
    let lost = 0;
    for (const jobId of claimed.jobs()) {
      const indices = claimed.drop(jobId);
      lost += indices.length;
      runtime.dispatch({
        type: 'tasks-lost',
        jobId,
        indices,
        at: runtime.now(),
      });
    }
    this.counters.lost += lost;
    logger.warn(
      { tasks: lost },
      'claims lapsed (this master was silent too long)',
    );
  }

  /** A cancel hint or a poll: end the job here if it ended in the shared store. */
  async #checkJob(jobId: JobId): Promise<void> {
    try {
      const row = await this.#o.store.getJob(jobId);
      if (row && row.state !== 'running') this.#ended(jobId, row.state);
    } catch (error) {
      this.#o.logger.error({ err: error, jobId }, 'job check failed');
    }
  }

  /**
   * The local scheduler holds a working copy of each job this master claimed from; the
   * store keeps the record. Copies of ended jobs are dropped past the newest few, so a
   * master that runs for months does not keep every job it ever helped with.
   */
  #retire(jobId: JobId): void {
    this.#specs.delete(jobId);
    this.#retired.delete(jobId);
    this.#retired.add(jobId);
    const { runtime } = this.#o;
    for (const old of this.#retired) {
      if (this.#retired.size <= LOCAL_ENDED_JOBS) break;
      this.#retired.delete(old);
      runtime.dispatch({ type: 'job-purged', jobId: old, at: runtime.now() });
    }
  }

  #ended(jobId: JobId, state: 'completed' | 'cancelled'): void {
    const { runtime, claimed } = this.#o;
    claimed.drop(jobId);
    const view = runtime.scheduler.jobView(jobId);
    if (view === undefined || view.state !== 'running') {
      // Not known here: nothing to stop, but readers here may wait for its end.
      runtime.emit('job-finished', jobId);
      return;
    }
    runtime.dispatch(
      state === 'completed'
        ? { type: 'job-completed', jobId, at: runtime.now() }
        : { type: 'job-cancelled', jobId, at: runtime.now() },
    );
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step);
    this.#chain = run.catch((error: unknown) => {
      this.#o.logger.error({ err: error }, 'cluster step failed');
    });
    return this.#chain;
  }
}
