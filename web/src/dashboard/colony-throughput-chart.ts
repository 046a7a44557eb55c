import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import uPlot from 'uplot';
// uPlot's own stylesheet, adopted into this shadow root (a build-time constant).
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import type { ThroughputPoint } from '../../../shared/protocol.js';
import { formatClock, formatCompact, formatRate } from '../format.js';

/** Most seconds of history on the x axis. @defaultValue 5 min */
const WINDOW_S = 5 * 60;
/** Fewest seconds on the x axis, so that a young master's line is not a sliver. */
const MIN_WINDOW_S = 60;
const HEIGHT = 190;

/**
 * The master's throughput (tasks finished per second) over the last minutes, drawn by
 * uPlot. The x axis ends at the master's current time, so the line slides left as
 * deltas arrive.
 */
@customElement('colony-throughput-chart')
export class ColonyThroughputChart extends LitElement {
  static override styles = [
    unsafeCSS(uPlotCss),
    css`
      :host {
        display: block;
        min-width: 0;
      }
      .plot {
        height: ${HEIGHT}px;
        overflow: hidden;
      }
      .uplot {
        font-family: var(--font);
      }
    `,
  ];

  /** Points oldest first (the model replaces the array on every change). */
  @property({ attribute: false }) points: readonly ThroughputPoint[] = [];
  /** Master time now, in ms since epoch. */
  @property({ type: Number }) now = 0;

  private _plot: uPlot | null = null;
  private _resize: ResizeObserver | null = null;
  /** Canvas colours are read once per plot: rebuild it when the colour scheme flips. */
  private readonly _scheme = window.matchMedia('(prefers-color-scheme: dark)');

  override render() {
    const last = this.points[this.points.length - 1];
    return html`<div
      class="plot"
      role="img"
      aria-label=${`Tasks finished per second over the last minutes; now ${formatRate(last?.rate ?? 0)}`}
    ></div>`;
  }

  protected override firstUpdated(): void {
    this._build();
    this._scheme.addEventListener('change', this._rebuild);
  }

  private _build(): void {
    const host = this.renderRoot.querySelector('.plot') as HTMLElement;
    this._plot = new uPlot(this._options(host.clientWidth), this._data(), host);
    this._resize = new ResizeObserver(() => {
      const width = host.clientWidth;
      if (width > 0 && this._plot && width !== this._plot.width) {
        this._plot.setSize({ width, height: HEIGHT });
      }
    });
    this._resize.observe(host);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (this._plot && (changed.has('points') || changed.has('now'))) {
      this._plot.setData(this._data());
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._scheme.removeEventListener('change', this._rebuild);
    this._teardown();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attached after a move: build the plot again.
    if (this.hasUpdated && !this._plot) this.firstUpdated();
  }

  private _teardown(): void {
    this._resize?.disconnect();
    this._resize = null;
    this._plot?.destroy();
    this._plot = null;
  }

  private _rebuild = (): void => {
    this._teardown();
    this._build();
  };

  private _data(): uPlot.AlignedData {
    const xs = new Float64Array(this.points.length);
    const ys = new Float64Array(this.points.length);
    this.points.forEach((p, i) => {
      xs[i] = p.at / 1_000;
      ys[i] = p.rate;
    });
    return [xs, ys];
  }

  /** The x range: ends now, spans the history held (1 to 5 minutes). */
  private _range(): [number, number] {
    const last = this.points[this.points.length - 1];
    const now = (this.now || last?.at || Date.now()) / 1_000;
    const first = this.points[0];
    const span = first
      ? Math.min(WINDOW_S, Math.max(MIN_WINDOW_S, now - first.at / 1_000))
      : MIN_WINDOW_S;
    return [now - span, now];
  }

  private _options(width: number): uPlot.Options {
    const style = getComputedStyle(this);
    const color = (name: string, fallback: string) =>
      style.getPropertyValue(name).trim() || fallback;
    const accent = color('--c-accent', '#3056d3');
    const muted = color('--c-muted', '#5f6b7c');
    const grid = color('--c-border', '#e2e5ea');
    const axis = {
      stroke: muted,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      font: '11px system-ui, sans-serif',
    };
    return {
      width: Math.max(200, width),
      height: HEIGHT,
      // Room on the right for the label of a tick at the very end of the axis.
      padding: [12, 28, 0, 4],
      legend: { show: false },
      cursor: { y: false, drag: { x: false, y: false } },
      scales: {
        x: {
          time: true,
          range: () => this._range(),
        },
        y: {
          // At least 0..4, so that an idle chart has whole-number ticks.
          range: (_u, _min, max) => [0, Math.max(4, (max || 0) * 1.15)],
        },
      },
      axes: [
        {
          ...axis,
          space: 80,
          values: (_u, ticks) => ticks.map((t) => formatClock(t * 1_000)),
        },
        {
          ...axis,
          size: 46,
          values: (_u, ticks) =>
            ticks.map((t) =>
              Number.isInteger(t) ? formatCompact(t) : t.toFixed(1),
            ),
        },
      ],
      series: [
        {},
        {
          label: 'tasks/s',
          stroke: accent,
          width: 2,
          fill: withAlpha(accent, 0.14),
          points: { show: false },
        },
      ],
    };
  }
}

/** `#rrggbb` with an alpha, as canvas understands it. */
function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return `rgba(48, 86, 211, ${alpha})`;
  const [r, g, b] = [m[1], m[2], m[3]].map((h) =>
    Number.parseInt(h ?? '0', 16),
  );
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-throughput-chart': ColonyThroughputChart;
  }
}
