/**
 * The dashboard's view of the whole fleet in cluster mode: jobs as the shared store
 * counts them, and the workers the other live masters publish in their presence rows.
 * Refreshed every second or so; what changed is marked dirty so deltas carry it.
 */
import * as z from 'zod';
import { WorkerKind } from '../../../shared/protocol.js';
import type { FleetView } from '../dashboard-feed.js';
import type { Runtime } from '../runtime.js';
import type { JobView, WorkerView } from '../scheduler/types.js';
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
  #jobById = new Map<string, JobView>();
  #workers = new Map<string, WorkerView>();
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

  jobView(id: string): JobView | undefined {
    return this.#jobById.get(id);
  }

  remoteWorkers(): WorkerView[] {
    return [...this.#workers.values()];
  }

  remoteWorker(id: string): WorkerView | undefined {
    return this.#workers.get(id);
  }

  async refresh(): Promise<void> {
    const [rows, masters] = await Promise.all([
      this.#store.listJobs({ limit: FLEET_JOBS }),
      this.#store.liveMasters(this.#ttlMs),
    ]);
    const local = (id: string) => this.#runtime.scheduler.jobView(id);
    const jobs: JobView[] = rows.reverse().map((row) => ({
      spec: row.spec,
      state: row.state,
      finishedAt: row.finishedAt,
      counts: row.counts,
      errors: local(row.spec.id)?.errors ?? [],
      // Backup copies are issued per master, of its own claims: this one's are shown.
      backups: local(row.spec.id)?.backups ?? { issued: 0, won: 0 },
    }));
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

    const workers = new Map<string, WorkerView>();
    for (const master of masters) {
      if (master.id === this.#self) continue;
      const parsed = PublishedWorkers.safeParse(master.workers);
      if (!parsed.success) continue;
      parsed.data.workers.forEach((w, i) => {
        const id = `${master.id}/${i}`;
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
