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

export function progressLine(job: JobSummary): string {
  const { done, failed, total } = job.counts;
  const left = total - done - failed;
  const eta = job.rate > 0 ? formatEta(left / job.rate) : '--';
  return `job ${job.id}: ${done + failed}/${total} (${done} done, ${failed} failed), ${Math.round(job.rate)}/s, ETA ${eta}`;
}

/**
 * The last line of a job that ended: its counts, how long it took and its mean rate
 * (the live rate and ETA say nothing then; a job shorter than the rate's window showed
 * 0/s).
 */
export function endLine(job: JobDetail): string {
  const { done, failed, total } = job.counts;
  const seconds = job.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round((done + failed) / seconds) : 0;
  return `job ${job.id}: ${done + failed}/${total} (${done} done, ${failed} failed); ${job.state} in ${seconds.toFixed(1)}s (${rate}/s)`;
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
  const update = (job: JobSummary) => {
    const { done, failed, total } = job.counts;
    if (bar) {
      const payload = {
        failed,
        rate: Math.round(job.rate),
        etaText:
          job.rate > 0 ? formatEta((total - done - failed) / job.rate) : '--',
      };
      if (!started) {
        bar.start(Math.max(total, 1), done + failed, payload);
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done + failed, payload);
    } else if (Date.now() - lastLineAt >= 1_000 || job.state !== 'running') {
      lastLineAt = Date.now();
      process.stderr.write(`${progressLine(job)}\n`);
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
