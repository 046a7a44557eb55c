/**
 * Progress of one job while `--wait`ing: a bar on a terminal (cli-progress), plain
 * lines otherwise. Fed by the live feed, so it costs the master nothing extra.
 */
import cliProgress from 'cli-progress';
import type { ColonyClient, JobDetail, JobSummary } from '../client/index.js';

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** `job 7: 552/1000 (550 done, 2 failed)`: how far a job is, the head of its lines. */
const countsOf = ({ id, counts: { done, failed, total } }: JobSummary) =>
  `job ${id}: ${done + failed}/${total} (${done} done, ${failed} failed)`;

export function progressLine(job: JobSummary, rate = job.rate): string {
  const { done, failed, total } = job.counts;
  const left = total - done - failed;
  const eta = rate > 0 ? formatEta(left / rate) : '--';
  const shown = Number.isFinite(rate) ? String(Math.round(rate)) : '--';
  return `${countsOf(job)}, ${shown}/s, ETA ${eta}`;
}

/** When this command first saw the job, and how many of its tasks had ended then. */
export interface FirstSeen {
  at: number;
  ended: number;
}

/**
 * The rate to show at `now`: the master's, over its last seconds; until it has one (a
 * job's first second, all of a short job), the mean since `first`; NaN (unknown) at
 * `first` itself.
 */
export function shownRate(
  job: JobSummary,
  first: FirstSeen,
  now: number,
): number {
  if (job.rate > 0) return job.rate;
  const seconds = (now - first.at) / 1000;
  if (seconds <= 0) return NaN;
  return (job.counts.done + job.counts.failed - first.ended) / seconds;
}

/**
 * The last line of a job that ended: its counts, how long it took and its mean rate
 * (the live rate and ETA say nothing then; a job shorter than the rate's window showed
 * 0/s).
 */
export function endLine(job: JobDetail): string {
  const { done, failed } = job.counts;
  const seconds = job.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round((done + failed) / seconds) : 0;
  return `${countsOf(job)}; ${job.state} in ${seconds.toFixed(1)}s (${rate}/s)`;
}

export function showProgress(
  client: ColonyClient,
  jobId: string,
): { stop(): void } {
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            ' {bar} {percentage}% | {value}/{total} | {failed} failed | {rate}/s | ETA {etaText}',
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let started = false;
  let lastLineAt = 0;
  let first: FirstSeen | undefined;
  const update = (job: JobSummary) => {
    const { done, failed, total } = job.counts;
    const now = Date.now();
    first ??= { at: now, ended: done + failed };
    const rate = shownRate(job, first, now);
    if (bar) {
      const payload = {
        failed,
        rate: Number.isFinite(rate) ? Math.round(rate) : '--',
        etaText: rate > 0 ? formatEta((total - done - failed) / rate) : '--',
      };
      if (!started) {
        bar.start(Math.max(total, 1), done + failed, payload);
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done + failed, payload);
    } else if (now - lastLineAt >= 1_000 || job.state !== 'running') {
      lastLineAt = now;
      process.stderr.write(`${progressLine(job, rate)}\n`);
    }
  };
  const close = client.watch((message) => {
    for (const job of message.jobs) if (job.id === jobId) update(job);
  });
  return {
    stop() {
      close();
      if (bar && started) bar.stop();
    },
  };
}
