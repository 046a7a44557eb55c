import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type {
  VolunteerSort,
  VolunteerSummary,
} from '../../../shared/volunteers.js';
import { formatCount, formatSpan } from '../format.js';
import { baseStyles } from '../ui-styles.js';

/** How often the list is fetched again while the dashboard is open. */
const REFRESH_MS = 5_000;

const SORT_LABEL: Record<Exclude<VolunteerSort, 'lastSeen'>, string> = {
  tasks: 'Tasks',
  cpu: 'CPU time',
};

/**
 * The volunteers who gave most (SPEC §14): the top `limit` of `GET /api/volunteers`,
 * by tasks or CPU time, with kind and last seen. Only those rows are fetched and
 * rendered, however many volunteers the master keeps; refreshed every few seconds.
 */
@customElement('colony-top-volunteers')
export class ColonyTopVolunteers extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 13px;
        table-layout: fixed;
      }
      th,
      td {
        padding: 6px 8px;
        text-align: left;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      th {
        color: var(--c-muted);
        font-weight: 600;
        font-size: 12px;
      }
      td.n,
      th.n {
        text-align: right;
      }
      tr + tr td {
        border-top: 1px solid var(--c-border);
      }
      /* A narrow column beside the workers table: short headers, fixed shares. */
      .name {
        width: 34%;
      }
      .kind {
        width: 17%;
      }
      .n {
        width: 16%;
      }
      .sorts {
        display: flex;
        gap: 6px;
        padding: 0 12px 8px;
      }
      .sorts button[aria-pressed='true'] {
        background: var(--c-surface-2);
        font-weight: 600;
      }
      .empty {
        padding: 12px;
      }
    `,
  ];

  /** Rows shown (and fetched). */
  @property({ type: Number }) limit = 10;
  /**
   * The dashboard's socket is live: the list is fetched only then (a fetch of a master
   * that is down would only add errors to the console). Going live fetches at once.
   */
  @property({ type: Boolean }) live = false;
  /** The dashboard's clock (ms since epoch), for "last seen". */
  @property({ type: Number }) now = Date.now();

  @state() private _sort: Exclude<VolunteerSort, 'lastSeen'> = 'tasks';
  @state() private _rows: VolunteerSummary[] | null = null;
  @state() private _total = 0;
  private _timer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this._timer = window.setInterval(() => void this._load(), REFRESH_MS);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('live') && this.live) void this._load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this._timer);
  }

  override render() {
    return html`
      <div class="sorts" role="group" aria-label="Order by">
        ${(['tasks', 'cpu'] as const).map(
          (sort) =>
            html`<button
              aria-pressed=${this._sort === sort ? 'true' : 'false'}
              @click=${() => this._setSort(sort)}
            >
              ${SORT_LABEL[sort]}
            </button>`,
        )}
        <span class="muted num" data-testid="volunteer-total"
          >${formatCount(this._total)} in all</span
        >
      </div>
      ${this._table()}
    `;
  }

  private _table() {
    const rows = this._rows;
    if (rows === null) return html`<div class="empty muted">Loading…</div>`;
    if (rows.length === 0)
      return html`<div class="empty muted">No volunteer has given yet.</div>`;
    return html`<table aria-label="Top volunteers">
      <thead>
        <tr>
          <th class="name">Name</th>
          <th class="kind">Kind</th>
          <th class="n">Tasks</th>
          <th class="n" title="CPU time given">CPU</th>
          <th class="n" title="Last seen">Seen</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (v) =>
            html`<tr data-volunteer=${v.id}>
              <td class="name" title=${`${v.name} (${v.id})`}>${v.name}</td>
              <td class="kind">
                <span class="kind-${v.kind}">${v.kind}</span>
              </td>
              <td class="n num">${formatCount(v.tasks)}</td>
              <td class="n num">${formatSpan(Math.round(v.busyMs / 1000))}</td>
              <td class="n num">${this._ago(v.lastSeen)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private _ago(at: number) {
    const seconds = Math.max(0, (this.now - at) / 1000);
    return seconds < 5 ? 'now' : html`${formatSpan(seconds)} ago`;
  }

  private _setSort(sort: Exclude<VolunteerSort, 'lastSeen'>): void {
    if (sort === this._sort) return;
    this._sort = sort;
    void this._load();
  }

  private async _load(): Promise<void> {
    const sort = this._sort;
    if (!this.live) return;
    try {
      const response = await fetch(
        `/api/volunteers?sort=${sort}&limit=${this.limit}`,
      );
      if (!response.ok || sort !== this._sort) return;
      this._rows = (await response.json()) as VolunteerSummary[];
      this._total = Number(response.headers.get('x-total-count') ?? 0);
    } catch {
      // Kept as it was; the next refresh tries again.
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-top-volunteers': ColonyTopVolunteers;
  }
}
