import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { cssomStyle } from '../cssom-style.js';
import type { WorkerSandbox, WorkerSummary } from '../../../shared/protocol.js';
import { WorkerSortKey, sortWorkers, visibleRange } from '../job-math.js';
import { formatCount, formatRate, formatSpan } from '../format.js';
import { baseStyles } from '../ui-styles.js';

const ROW_HEIGHT = 36;
/** Rows of the viewport before it scrolls. */
const MAX_VISIBLE_ROWS = 10;

const COLUMNS: readonly { key: WorkerSortKey; label: string; cls: string }[] = [
  { key: WorkerSortKey.Kind, label: 'Kind', cls: 'kind' },
  { key: WorkerSortKey.Name, label: 'Name', cls: 'name' },
  { key: WorkerSortKey.InFlight, label: 'In flight', cls: 'r flight' },
  { key: WorkerSortKey.Done, label: 'Done', cls: 'r done' },
  { key: WorkerSortKey.Rate, label: 'Rate', cls: 'r rate' },
  { key: WorkerSortKey.Connected, label: 'Connected', cls: 'r since' },
];

/** What each sandbox means, for the badge's tooltip (see the README's Security). */
const SANDBOX_TITLES: Readonly<Record<WorkerSandbox, string>> = {
  bwrap: 'task code runs in bubblewrap: no network, no files, no environment',
  permission:
    "task code runs under Node's permission model: no files, no environment, but network",
  none: "task code runs unsandboxed in the worker's own process",
  browser: 'task code runs in Web Workers of a browser tab',
};

function sandboxBadge(sandbox: WorkerSandbox | undefined) {
  if (sandbox === undefined)
    return html`<span class="faint" title="the worker did not say">–</span>`;
  return html`<span
    class="badge sandbox-${sandbox}"
    title=${SANDBOX_TITLES[sandbox]}
    >${sandbox}</span
  >`;
}

/**
 * Connected workers as a windowed table: only the rows in view (plus a few) are in the
 * DOM, so thousands of workers cost what a dozen do. Sortable by column; rows keep
 * their places while numbers change (ties fall back to connection time).
 */
@customElement('colony-worker-table')
export class ColonyWorkerTable extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .grid {
        /* rem, not em: the header row has a smaller font than the body rows. Each fixed
           column as wide as its header and its widest value ("permission", "CONNECTED ↑"),
           so that the name keeps room beside them in the dashboard's left column. */
        display: grid;
        grid-template-columns:
          4rem 5.5rem minmax(0, 1fr)
          3.75rem 5.75rem 4.5rem 4.5rem 5.75rem;
        align-items: center;
        column-gap: 12px;
        padding: 0 16px;
      }
      .vol {
        margin-left: 6px;
        font-family: var(--font-mono, monospace);
        font-size: 11px;
        color: var(--c-muted);
      }
      .head {
        height: 32px;
        border-top: 1px solid var(--c-border);
        border-bottom: 1px solid var(--c-border);
        background: var(--c-surface-2);
        font-size: 12px;
      }
      .head button {
        border: none;
        background: none;
        padding: 0;
        font-size: 12px;
        font-weight: 600;
        color: var(--c-muted);
        text-transform: uppercase;
        letter-spacing: 0.03em;
        white-space: nowrap;
        display: inline-flex;
        gap: 4px;
        align-items: center;
      }
      .head button:hover:not(:disabled) {
        background: none;
        color: var(--c-text);
      }
      .head .sorted button {
        color: var(--c-text);
      }
      .head .static {
        font-weight: 600;
        color: var(--c-muted);
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      .arrow {
        width: 0.8em;
        display: inline-block;
      }
      .viewport {
        overflow-y: auto;
        position: relative;
        contain: strict;
      }
      .spacer {
        position: relative;
      }
      .row {
        position: absolute;
        left: 0;
        right: 0;
        height: ${ROW_HEIGHT}px;
        border-bottom: 1px solid var(--c-border);
      }
      .r {
        text-align: right;
      }
      .head .r {
        justify-self: end;
      }
      .kind .badge {
        font-size: 11px;
        padding: 1px 7px;
      }
      .badge.kind-node {
        background: color-mix(in srgb, var(--c-node) 10%, transparent);
        border-color: color-mix(in srgb, var(--c-node) 30%, transparent);
      }
      .badge.kind-browser {
        background: color-mix(in srgb, var(--c-browser) 10%, transparent);
        border-color: color-mix(in srgb, var(--c-browser) 30%, transparent);
      }
      .sandbox .badge {
        font-size: 11px;
        padding: 1px 7px;
      }
      .badge.sandbox-none {
        color: var(--c-warn);
        border-color: color-mix(in srgb, var(--c-warn) 40%, transparent);
      }
      .slots {
        color: var(--c-faint);
      }
      .empty {
        padding: 28px 16px 32px;
        text-align: center;
        color: var(--c-muted);
        border-top: 1px solid var(--c-border);
      }
      @media (max-width: 720px) {
        .grid {
          grid-template-columns: 5.2rem minmax(0, 1fr) 5.5rem;
          column-gap: 8px;
          padding: 0 12px;
        }
        .sandbox,
        .slotcol,
        .flight,
        .rate,
        .since {
          display: none;
        }
      }
    `,
  ];

  /** Connected workers by id (the model's map; see `version`). */
  @property({ attribute: false }) workers: ReadonlyMap<string, WorkerSummary> =
    new Map();
  /** Bumped whenever `workers` changed (the map is updated in place). */
  @property({ type: Number }) version = 0;
  /** Master time now, in ms since epoch (for "connected" durations). */
  @property({ type: Number }) now = 0;

  @state() private _sortKey: WorkerSortKey = WorkerSortKey.Connected;
  @state() private _descending = false;
  @state() private _scrollTop = 0;

  private _sorted: WorkerSummary[] = [];
  private _sortedFor = '';

  override render() {
    const rows = this._rows();
    if (rows.length === 0) {
      return html`<div class="empty">
        No workers connected. Open the volunteer page in a browser, or run
        <b>colony worker</b>.
      </div>`;
    }
    const viewportRows = Math.min(MAX_VISIBLE_ROWS, rows.length);
    const viewportHeight = viewportRows * ROW_HEIGHT;
    const { start, end } = visibleRange(
      this._scrollTop,
      viewportHeight,
      ROW_HEIGHT,
      rows.length,
    );
    const slice = rows.slice(start, end);
    return html`
      <div class="grid head" role="row">
        ${this._header(COLUMNS[0] as (typeof COLUMNS)[number])}
        <span class="static sandbox" role="columnheader">Sandbox</span>
        ${this._header(COLUMNS[1] as (typeof COLUMNS)[number])}
        <span class="static r slotcol" role="columnheader">Slots</span>
        ${COLUMNS.slice(2).map((c) => this._header(c))}
      </div>
      <div
        class="viewport"
        role="rowgroup"
        style=${cssomStyle({ height: `${viewportHeight}px` })}
        @scroll=${this._onScroll}
      >
        <div
          class="spacer"
          style=${cssomStyle({ height: `${rows.length * ROW_HEIGHT}px` })}
        >
          ${slice.map((w, i) => this._row(w, start + i))}
        </div>
      </div>
    `;
  }

  private _rows(): WorkerSummary[] {
    const key = `${this.version}:${this._sortKey}:${this._descending}:${this.workers.size}`;
    if (key !== this._sortedFor) {
      this._sorted = sortWorkers(
        this.workers.values(),
        this._sortKey,
        this._descending,
      );
      this._sortedFor = key;
    }
    return this._sorted;
  }

  private _header(column: (typeof COLUMNS)[number]) {
    const sorted = column.key === this._sortKey;
    return html`<span
      class="${column.cls} ${sorted ? 'sorted' : ''}"
      role="columnheader"
      aria-sort=${sorted ? (this._descending ? 'descending' : 'ascending') : 'none'}
    >
      <button @click=${() => this._sortBy(column.key)}>
        ${column.label}<span class="arrow" aria-hidden="true"
          >${sorted ? (this._descending ? '↓' : '↑') : ''}</span
        >
      </button>
    </span>`;
  }

  private _row(w: WorkerSummary, index: number) {
    return html`<div
      class="grid row"
      role="row"
      data-worker=${w.id}
      data-kind=${w.kind}
      style=${cssomStyle({ top: `${index * ROW_HEIGHT}px` })}
    >
      <span class="kind"
        ><span class="badge kind-${w.kind}">${w.kind}</span></span
      >
      <span class="sandbox">${sandboxBadge(w.sandbox)}</span>
      <span class="ellipsis" title=${w.name}
        ><span class="name">${w.name}</span> ${
          w.volunteer
            ? html`<span class="vol" title="volunteer ${w.volunteer}"
                >${w.volunteer}</span
              >`
            : nothing
        }</span
      >
      <span class="r num slotcol">${w.slots}</span>
      <span class="r num flight">${formatCount(w.inFlight)}</span>
      <span class="r num done">${formatCount(w.done)}</span>
      <span class="r num rate">${formatRate(w.rate)}</span>
      <span class="r num since"
        >${
          this.now > 0
            ? formatSpan(Math.max(0, this.now - w.connectedAt) / 1_000)
            : nothing
        }</span
      >
    </div>`;
  }

  private _sortBy(key: WorkerSortKey): void {
    if (key === this._sortKey) this._descending = !this._descending;
    else {
      this._sortKey = key;
      // Numbers read best largest-first; names and times in their natural order.
      this._descending =
        key === WorkerSortKey.Done ||
        key === WorkerSortKey.Rate ||
        key === WorkerSortKey.InFlight;
    }
  }

  private _onScroll(event: Event): void {
    this._scrollTop = (event.target as HTMLElement).scrollTop;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-worker-table': ColonyWorkerTable;
  }
}
