/** Prometheus text exposition of the master's counters and gauges. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { DashboardFeed } from './dashboard-feed.js';
import type { Gateway } from './gateway.js';
import type { Runtime } from './runtime.js';

/**
 * Event-loop delay, sampled every 10 ms from the first render on (the bench and a
 * Prometheus scraper read it). Like prom-client, each render reports the window since
 * the previous render and starts a new one. Not before: its timer wakes the event loop
 * 100 times a second, which was most of an idle master's CPU (10-18 of 12-25 ms/s).
 */
let loopDelay: IntervalHistogram | null = null;
const LAG_RESOLUTION_MS = 10;

function eventLoopLag(): { p50: number; p99: number; max: number } {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    loopDelay.enable();
  }
  // The histogram holds whole timer intervals in ns (resolution + delay): keep the delay.
  // An empty window reads 0.
  const seconds = (ns: number) =>
    Number.isFinite(ns) && ns > 0
      ? Math.max(0, ns / 1e9 - LAG_RESOLUTION_MS / 1e3)
      : 0;
  const lag = {
    p50: seconds(loopDelay.percentile(50)),
    p99: seconds(loopDelay.percentile(99)),
    max: seconds(loopDelay.max),
  };
  loopDelay.reset();
  return lag;
}

export function renderMetrics(
  runtime: Runtime,
  gateway: Gateway,
  feed: DashboardFeed,
): string {
  const lines: string[] = [];
  const metric = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    samples: [labels: string, value: number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples)
      lines.push(`${name}${labels} ${value}`);
  };
  const jobs = runtime.scheduler.jobViews();
  const workers = runtime.scheduler.workerViews();
  const byState = { running: 0, completed: 0, cancelled: 0 };
  let queued = 0;
  let running = 0;
  for (const job of jobs) {
    byState[job.state]++;
    queued += job.counts.queued;
    running += job.counts.running;
  }
  const byKind = { node: 0, browser: 0 };
  let slots = 0;
  for (const worker of workers) {
    byKind[worker.kind]++;
    slots += worker.slots;
  }
  const { counters } = runtime;
  const g = gateway.counters;
  metric(
    'colony_tasks_done_total',
    'counter',
    'Tasks recorded with an output.',
    [['', counters.recordedOk]],
  );
  metric('colony_tasks_failed_total', 'counter', 'Tasks recorded as failed.', [
    ['', counters.recordedFailed],
  ]);
  metric(
    'colony_reassignments_total',
    'counter',
    'Reassignment events (disconnects, expiries).',
    [['', counters.reassigned]],
  );
  metric(
    'colony_replica_disagreements_total',
    'counter',
    'Replica outputs that disagreed with the output other volunteers agreed on.',
    [['', runtime.scheduler.disagreements]],
  );
  const credited = counters.creditedTasks;
  metric(
    'colony_volunteer_tasks_total',
    'counter',
    'Tasks credited to volunteers (recorded results), by kind.',
    [
      ['{kind="node"}', credited.node],
      ['{kind="browser"}', credited.browser],
    ],
  );
  const busy = counters.creditedBusyMs;
  metric(
    'colony_volunteer_cpu_seconds_total',
    'counter',
    'Busy seconds of the tasks credited to volunteers (measured by their threads), by kind.',
    [
      ['{kind="node"}', busy.node / 1000],
      ['{kind="browser"}', busy.browser / 1000],
    ],
  );
  metric('colony_tasks', 'gauge', 'Tasks of running jobs by state.', [
    ['{state="queued"}', queued],
    ['{state="running"}', running],
  ]);
  metric('colony_task_rate', 'gauge', 'Tasks finished per second (recent).', [
    ['', feed.totalRate],
  ]);
  metric('colony_jobs', 'gauge', 'Jobs by state.', [
    ['{state="running"}', byState.running],
    ['{state="completed"}', byState.completed],
    ['{state="cancelled"}', byState.cancelled],
  ]);
  metric('colony_workers', 'gauge', 'Connected workers by kind.', [
    ['{kind="node"}', byKind.node],
    ['{kind="browser"}', byKind.browser],
  ]);
  metric('colony_worker_slots', 'gauge', 'Task slots of connected workers.', [
    ['', slots],
  ]);
  metric('colony_dashboards', 'gauge', 'Connected dashboards.', [
    ['', gateway.dashboardCount],
  ]);
  metric(
    'colony_ws_connections_total',
    'counter',
    'WebSocket connections accepted.',
    [['', g.connections]],
  );
  metric(
    'colony_ws_frames_received_total',
    'counter',
    'WebSocket frames received from workers and dashboards.',
    [['', g.framesIn]],
  );
  metric(
    'colony_ws_frames_sent_total',
    'counter',
    'WebSocket frames sent by the gateway (not counting dashboard deltas).',
    [['', g.framesOut]],
  );
  metric(
    'colony_ws_invalid_messages_total',
    'counter',
    'Malformed or refused messages.',
    [['', g.invalidMessages]],
  );
  metric(
    'colony_ws_heartbeat_timeouts_total',
    'counter',
    'Sockets terminated by the heartbeat.',
    [['', g.heartbeatTimeouts]],
  );
  metric(
    'colony_ws_slow_consumers_total',
    'counter',
    'Sockets dropped for not draining.',
    [['', g.slowConsumers]],
  );
  const memory = process.memoryUsage();
  metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', [
    ['', memory.rss],
  ]);
  metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap used.', [
    ['', memory.heapUsed],
  ]);
  const lag = eventLoopLag();
  metric(
    'nodejs_eventloop_lag_p50_seconds',
    'gauge',
    'Event-loop delay p50 since the previous scrape.',
    [['', lag.p50]],
  );
  metric(
    'nodejs_eventloop_lag_p99_seconds',
    'gauge',
    'Event-loop delay p99 since the previous scrape.',
    [['', lag.p99]],
  );
  metric(
    'nodejs_eventloop_lag_max_seconds',
    'gauge',
    'Event-loop delay max since the previous scrape.',
    [['', lag.max]],
  );
  return `${lines.join('\n')}\n`;
}
