/** `colony status`, `colony results JOB`, `colony cancel JOB`, `colony delete JOB`. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Flags } from './flags.js';
import { clientFrom } from './common.js';

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) =>
      Math.max(...rows.map((row) => (row[column] ?? '').length)),
    ) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function runStatus(flags: Flags): Promise<void> {
  const client = clientFrom(flags);
  const [page, workers] = await Promise.all([
    client.jobPage(),
    client.workers(),
  ]);
  const { jobs, total } = page;
  const jobRows = [
    [
      'JOB',
      'NAME',
      'STATE',
      'DONE',
      'FAILED',
      'RUNNING',
      'QUEUED',
      'TOTAL',
      'RATE/s',
    ],
  ];
  for (const job of jobs) {
    const c = job.counts;
    jobRows.push([
      job.id,
      job.name.slice(0, 40),
      job.state,
      String(c.done),
      String(c.failed),
      String(c.running),
      String(c.queued),
      String(c.total),
      job.rate.toFixed(0),
    ]);
  }
  const workerRows = [
    [
      'WORKER',
      'NAME',
      'KIND',
      'SLOTS',
      'IN FLIGHT',
      'DONE',
      'RATE/s',
      'CONNECTED',
    ],
  ];
  for (const w of workers) {
    workerRows.push([
      w.id,
      w.name.slice(0, 30),
      w.kind,
      String(w.slots),
      String(w.inFlight),
      String(w.done),
      w.rate.toFixed(0),
      new Date(w.connectedAt).toISOString(),
    ]);
  }
  process.stdout.write(
    `${jobsLine(jobs.length, total)}\n${table(jobRows)}\n\n${workers.length} worker(s)\n${table(workerRows)}\n`,
  );
}

/** "3 job(s)", or "the latest 50 of 120 job(s) (70 more: GET /api/jobs?before=ID)". */
function jobsLine(shown: number, total: number): string {
  if (total <= shown) return `${shown} job(s)`;
  return `the latest ${shown} of ${total} job(s) (${total - shown} more: GET /api/jobs?before=ID)`;
}

export async function runResults(jobId: string, flags: Flags): Promise<void> {
  const client = clientFrom(flags);
  const sink = flags.out ? createWriteStream(flags.out) : process.stdout;
  // The master's lines as they are: bytes are already written as $base64.
  for await (const lines of client.resultLines(jobId)) {
    if (lines.length > 0 && !sink.write(`${lines.join('\n')}\n`))
      await once(sink, 'drain');
  }
  if (flags.out) {
    sink.end();
    await once(sink, 'finish');
  }
}

export async function runCancel(jobId: string, flags: Flags): Promise<void> {
  const job = await clientFrom(flags).cancel(jobId);
  process.stdout.write(
    `job ${job.id} ${job.state}: ${job.counts.done} done, ${job.counts.failed} failed of ${job.counts.total}\n`,
  );
}

export async function runDelete(jobId: string, flags: Flags): Promise<void> {
  await clientFrom(flags).purge(jobId);
  process.stdout.write(`job ${jobId} deleted\n`);
}
