/**
 * The dashboard's view of the whole fleet in cluster mode: jobs as the shared store
 * counts them, and the workers the other live masters publish in their presence rows.
 * Refreshed every second or so; what changed is marked dirty so deltas carry it.
 */
import * as z from 'zod';
import { WorkerKind } from '../../../shared/protocol.js';
import type { FleetView } from '../dashboard-feed.js';
import type { Runtime } from '../runtime.js';
import type {
  JobId,
  JobView,
  WorkerId,
  WorkerView,
} from '../scheduler/types.js';
import type { ClusterStore } from '../store/postgres/cluster-store.js';

/** Jobs shown (newest), as a single master's snapshot bounds them. */
const FLEET_JOBS = 200;

/** A presence row's workers, as another master wrote them (validated, bounded). */
const PublishedWorkers = z.object({
  workers: z
    .array(
      z.object({
        name: z.string().max(200),
        kind: WorkerKind,
        slots: z.number().int().min(0).max(1_000_000),
        inFlight: z.number().int().min(0),
        done: z.number().int().min(0),
        // Absent in rows of masters that predate them.
        disagreed: z.number().int().min(0).default(0),
        volunteer: z.string().max(64).default(''),
      }),
    )
    .max(1_000),
});

export class Fleet implements FleetView {
  #jobs: JobView[] = [];
  #jobById = new Map<JobId, JobView>();
  #workers = new Map<WorkerId, WorkerView>();
  readonly #store: ClusterStore;
  readonly #runtime: Runtime;
  readonly #self: string;
  readonly #ttlMs: number;

  constructor(
    store: ClusterStore,
    runtime: Runtime,
    self: string,
    ttlMs: number,
  ) {
    this.#store = store;
    this.#runtime = runtime;
    this.#self = self;
    this.#ttlMs = ttlMs;
  }

  jobViews(): JobView[] {
    return this.#jobs;
  }

  jobView(id: JobId): JobView | undefined {
    return this.#jobById.get(id);
  }

  remoteWorkers(): WorkerView[] {
    return [...this.#workers.values()];
  }

  remoteWorker(id: WorkerId): WorkerView | undefined {
    return this.#workers.get(id);
  }

  async refresh(): Promise<void> {
    const [rows, masters] = await Promise.all([
      this.#store.listJobs({ limit: FLEET_JOBS }),
      this.#store.liveMasters(this.#ttlMs),
    ]);
    const jobs: JobView[] = rows.reverse().map((row) => {
      const local = this.#runtime.scheduler.jobView(row.spec.id);
      return {
        spec: row.spec,
        state: row.state,
        finishedAt: row.finishedAt,
        counts: row.counts,
        errors: local?.errors ?? [],
        // Backup copies and checkpoints are per master, of its own claims: this one's
        // are shown.
        backups: local?.backups ?? { issued: 0, won: 0 },
        checkpoints: local?.checkpoints ?? { tasks: 0, resumed: 0 },
      };
    });
    const byId = new Map(jobs.map((view) => [view.spec.id, view]));
    for (const view of jobs) {
      const old = this.#jobById.get(view.spec.id);
      if (
        JSON.stringify(old?.counts) !== JSON.stringify(view.counts) ||
        old?.state !== view.state
      )
        this.#runtime.dirtyJobs.add(view.spec.id);
    }
    this.#jobs = jobs;
    this.#jobById = byId;

    const workers = new Map<WorkerId, WorkerView>();
    for (const master of masters) {
      if (master.id === this.#self) continue;
      const parsed = PublishedWorkers.safeParse(master.workers);
      if (!parsed.success) continue;
      parsed.data.workers.forEach((w, i) => {
        const id = remoteWorkerId(master.id, i);
        workers.set(id, {
          id,
          name: `${w.name} @ ${master.address}`,
          kind: w.kind,
          slots: w.slots,
          inFlight: w.inFlight,
          done: w.done,
          disagreed: w.disagreed,
          volunteer: w.volunteer,
          connectedAt: master.startedAt,
        });
      });
    }
    for (const [id, view] of workers) {
      if (JSON.stringify(this.#workers.get(id)) !== JSON.stringify(view))
        this.#runtime.dirtyWorkers.add(id);
    }
    for (const id of this.#workers.keys()) {
      if (!workers.has(id)) this.#runtime.dirtyWorkers.add(id);
    }
    this.#workers = workers;
  }
}

/** The id the dashboard gives another master's `i`-th published worker. */
function remoteWorkerId(master: string, i: number): WorkerId {
  return `${master}/${i}` as WorkerId;
}
