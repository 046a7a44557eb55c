import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import uPlot from 'uplot';
// uPlot's own stylesheet, adopted into this shadow root (a build-time constant).
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import type { ThroughputPoint } from '../../../shared/protocol.js';
import { formatCompact, formatRate } from '../format.js';

/** Seconds of history on the x axis. @defaultValue 5 min */
const WINDOW_S = 5 * 60;
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

  override render() {
    const last = this.points[this.points.length - 1];
    return html`<div
      class="plot"
      role="img"
      aria-label=${`Throughput over the last ${WINDOW_S / 60} minutes; now ${formatRate(last?.rate ?? 0)}`}
    ></div>`;
  }

  protected override firstUpdated(): void {
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
    this._resize?.disconnect();
    this._resize = null;
    this._plot?.destroy();
    this._plot = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attached after a move: build the plot again.
    if (this.hasUpdated && !this._plot) this.firstUpdated();
  }

  private _data(): uPlot.AlignedData {
    const xs = new Float64Array(this.points.length);
    const ys = new Float64Array(this.points.length);
    this.points.forEach((p, i) => {
      xs[i] = p.at / 1_000;
      ys[i] = p.rate;
    });
    return [xs, ys];
  }

  private _nowSeconds(): number {
    const last = this.points[this.points.length - 1];
    return (this.now || last?.at || Date.now()) / 1_000;
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
      padding: [12, 12, 0, 4],
      legend: { show: false },
      cursor: { y: false, drag: { x: false, y: false } },
      scales: {
        x: {
          time: true,
          range: () => {
            const now = this._nowSeconds();
            return [now - WINDOW_S, now];
          },
        },
        y: {
          range: (_u, _min, max) => [0, Math.max(1, (max || 0) * 1.15)],
        },
      },
      axes: [
        { ...axis, space: 70 },
        {
          ...axis,
          size: 46,
          values: (_u, ticks) => ticks.map((t) => formatCompact(t)),
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
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => Number.parseInt(h ?? '0', 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-throughput-chart': ColonyThroughputChart;
  }
}
