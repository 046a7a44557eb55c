/**
 * The parts of one row of the job list (`<colony-job-list>`): title and badges, the
 * metrics and cancel button, the breakdown by state, the error samples. Plain template
 * functions, rendered in the list's shadow root and styled by its styles; events go
 * back through the callbacks. Every job-supplied string is rendered as text.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { JobSummary } from '../../../shared/protocol.js';
import { completion, etaSeconds } from '../job-math.js';
import {
  formatCount,
  formatEta,
  formatPercent,
  formatRate,
  formatSpan,
} from '../format.js';

export function jobTitle(job: JobSummary): TemplateResult {
  return html`<div class="title">
    <span class="name ellipsis" title=${`${job.name} (job ${job.id})`}
      >${job.name}</span
    >
    <span class="badge state-${job.state}"
      ><span class="dot"></span>${job.state}</span
    >
    ${
      job.sealed
        ? nothing
        : html`<span class="badge" title="more inputs may be appended"
            >open</span
          >`
    }
  </div>`;
}

/** Completion, rate, eta (or time taken) and the cancel button (`onCancel`). */
export function jobMetrics(
  job: JobSummary,
  onCancel: (job: JobSummary) => void,
): TemplateResult {
  const c = job.counts;
  const eta = etaSeconds(job);
  const finished = job.state !== 'running';
  return html`<div class="metric pct">
      <div class="v num">${formatPercent(completion(c, job.partial))}</div>
      <div class="k num">
        ${formatCount(c.done + c.failed)}/${formatCount(c.total)}
      </div>
    </div>
    <div class="metric rate">
      <div class="v num">${finished ? '—' : formatRate(job.rate)}</div>
      <div class="k">rate</div>
    </div>
    <div class="metric eta">
      <div class="v num">
        ${
          finished && job.finishedAt !== null
            ? formatSpan((job.finishedAt - job.createdAt) / 1_000)
            : formatEta(eta)
        }
      </div>
      <div class="k">${finished ? 'took' : 'eta'}</div>
    </div>
    <div class="actions">
      ${
        finished
          ? nothing
          : html`<button
              class="cancel danger"
              @click=${() => onCancel(job)}
              aria-label=${`Cancel job ${job.name}`}
            >
              Cancel
            </button>`
      }
    </div>`;
}

/** The counts by state, backups and checkpoints, and the errors toggle (`onToggle`). */
export function jobBreakdown(
  job: JobSummary,
  expanded: boolean,
  onToggle: (jobId: string) => void,
): TemplateResult {
  const c = job.counts;
  return html`<div class="breakdown">
    <span class="key done num"><i></i>${formatCount(c.done)} done</span>
    <span class="key failed num"><i></i>${formatCount(c.failed)} failed</span>
    <span class="key running num"
      ><i></i>${formatCount(c.running)} running</span
    >
    <span class="key queued num"><i></i>${formatCount(c.queued)} queued</span>
    ${
      job.backups && job.backups.issued > 0
        ? html`<span
            class="key backups num"
            title="backup copies of stragglers at the job's tail (and how many finished first)"
            >${formatCount(job.backups.issued)} backups
            (${formatCount(job.backups.won)} won)</span
          >`
        : nothing
    }
    ${
      job.checkpoints &&
      (job.checkpoints.tasks > 0 || job.checkpoints.resumed > 0)
        ? html`<span
            class="key checkpoints num"
            title="running tasks that saved a checkpoint (and dispatches that resumed from one)"
            >${formatCount(job.checkpoints.tasks)} checkpointed
            (${formatCount(job.checkpoints.resumed)} resumed)</span
          >`
        : nothing
    }
    ${
      job.errors.length > 0
        ? html`<button
            class="link"
            aria-expanded=${expanded ? 'true' : 'false'}
            @click=${() => onToggle(job.id)}
          >
            ${expanded ? 'Hide' : 'Show'} errors (${job.errors.length})
          </button>`
        : nothing
    }
  </div>`;
}

/** The job's error samples, each message as text. */
export function jobErrors(job: JobSummary): TemplateResult | typeof nothing {
  if (job.errors.length === 0) return nothing;
  return html`<div class="errors" role="list" aria-label="Error samples">
    ${job.errors.map(
      (e) =>
        html`<div role="listitem">
          <span class="faint num">task ${e.index}</span
          ><span class="msg">${e.error}</span>
        </div>`,
    )}
  </div>`;
}
