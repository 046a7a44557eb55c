/**
 * What a master publishes in its presence row about its workers, for the dashboards of
 * every master: totals, and the workers themselves up to a bound (a row stays small).
 */
import type { DashboardFeed } from '../dashboard-feed.js';
import type { Runtime } from '../runtime.js';

/** Workers listed per master; the totals count them all. */
const MAX_LISTED = 200;

export interface WorkersSummary {
  count: number;
  slots: number;
  inFlight: number;
  rate: number;
  workers: {
    name: string;
    kind: string;
    slots: number;
    inFlight: number;
    done: number;
    disagreed: number;
    volunteer: string;
    rate: number;
  }[];
}

export function workersSummary(
  runtime: Runtime,
  feed: DashboardFeed,
): WorkersSummary {
  const views = runtime.scheduler.workerViews();
  let slots = 0;
  let inFlight = 0;
  let rate = 0;
  const workers: WorkersSummary['workers'] = [];
  for (const view of views) {
    const summary = feed.workerSummary(view);
    slots += view.slots;
    inFlight += view.inFlight;
    rate += summary.rate;
    if (workers.length < MAX_LISTED) {
      workers.push({
        name: view.name,
        kind: view.kind,
        slots: view.slots,
        inFlight: view.inFlight,
        done: view.done,
        disagreed: view.disagreed,
        volunteer: view.volunteer,
        rate: summary.rate,
      });
    }
  }
  return { count: views.length, slots, inFlight, rate, workers };
}
