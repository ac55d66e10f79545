/**
 * The Fragmentation panel: free memory by block order over the history (a
 * stacked area), and Linux's fragmentation and unusable free space indexes at
 * one order with the largest free order, for one zone. A line marks the step
 * the map shows; a click on a chart shows that step.
 */
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip, type ChartDataset, type Plugin } from 'chart.js';
import { zoneFragmentation } from '../src/engine/inspect/frag';
import { orderRampColours } from '../src/shared/mapRaster';
import { FRAG_HISTORY_CHANGED, type FragHistoryData } from '../src/shared/protocol';
import { cssOf, type ThemeColours } from './palette';
import { blockSize as sizeOfOrder } from './cellText';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Title, Tooltip, Legend);

/** Steps the chart samples over the history. */
export const CHART_SAMPLES = 240;
/** The order the indexes are shown at first: a pageblock (2 MiB, a transparent huge page), or the largest. */
const DEFAULT_INDEX_ORDER = 9;

type Point = { x: number; y: number | null };

export interface FragChartHost {
  /** Free blocks by order over the history, or a reason it cannot be had. */
  ask(samples: number): Promise<FragHistoryData>;
  goToStep(step: number): void;
}

export class FragChart {
  private history?: FragHistoryData;
  private zone = -1;
  private order = -1;
  private at?: number;
  private blocks?: Chart<'line', Point[]>;
  private indexes?: Chart<'line', Point[]>;
  private asking = false;
  private again = false;
  /** The history range the shown figures are of, to tell when it changed. */
  private shownOf?: string;
  private wantedOf?: string;
  private readonly zoneSelect: HTMLSelectElement;
  private readonly orderSelect: HTMLSelectElement;
  private readonly status: HTMLElement;
  private readonly atText: HTMLElement;

  constructor(private readonly panel: HTMLElement & { open?: boolean }, private readonly host: FragChartHost, private theme: ThemeColours) {
    const $ = <T extends HTMLElement>(id: string) => panel.querySelector<T>(`#${id}`)!;
    this.zoneSelect = $('fragZone');
    this.orderSelect = $('fragOrder');
    this.status = $('fragStatus');
    this.atText = $('fragAt');
    this.zoneSelect.addEventListener('change', () => {
      this.zone = Number(this.zoneSelect.value);
      this.draw();
    });
    this.orderSelect.addEventListener('change', () => {
      this.order = Number(this.orderSelect.value);
      this.draw();
    });
    panel.addEventListener('vsc-collapsible-toggle', () => {
      // Opened: figures read while it was closed (or charts dropped by a theme change) are drawn now.
      this.fetchIfWanted();
      this.draw();
    });
  }

  /** A new state: `of` names the history's range (it changes with every step added or dropped), `at` the step shown. */
  update(of: string, at: number): void {
    this.wantedOf = of;
    this.at = at;
    this.fetchIfWanted();
    this.showCursor();
  }

  setTheme(theme: ThemeColours): void {
    this.theme = theme;
    this.blocks?.destroy();
    this.indexes?.destroy();
    this.blocks = this.indexes = undefined;
    this.draw();
  }

  private fetchIfWanted(): void {
    if (!this.panel.open || this.wantedOf === undefined || this.wantedOf === this.shownOf) return;
    if (this.asking) {
      this.again = true;
      return;
    }
    this.asking = true;
    const of = this.wantedOf;
    this.panel.dataset.fragState = 'loading';
    if (!this.history) this.status.textContent = 'Reading the history…';
    this.host.ask(CHART_SAMPLES).then((h) => {
      this.history = h;
      this.shownOf = of;
      this.status.textContent = '';
      this.fillControls();
      this.draw();
    }, (e: Error) => {
      // Cut short by a change: the state that change brings asks again.
      if (e.message === FRAG_HISTORY_CHANGED) return void (this.again = true);
      this.status.textContent = `The history could not be read: ${e.message}`;
      this.panel.dataset.fragState = 'error';
    }).finally(() => {
      this.asking = false;
      if (this.again) {
        this.again = false;
        this.fetchIfWanted();
      }
    });
  }

  private fillControls(): void {
    const h = this.history!;
    const last = h.samples[h.samples.length - 1];
    const zones = last?.zones ?? [];
    const names = zones.map((z) => `node ${z.node} · ${z.zone}`);
    if (this.zoneSelect.options.length !== names.length || names.some((n, i) => this.zoneSelect.options[i].text !== n)) {
      this.zoneSelect.replaceChildren(...names.map((n, i) => new Option(n, String(i))));
      // The zone with the most free memory now, at first.
      const freePages = (z: { free: number[] }) => z.free.reduce((n, c, o) => n + c * 2 ** o, 0);
      this.zone = zones.reduce((best, z, i) => (freePages(z) > freePages(zones[best]) ? i : best), 0);
    }
    if (this.orderSelect.options.length !== h.maxOrder + 1) {
      this.orderSelect.replaceChildren(...Array.from({ length: h.maxOrder + 1 }, (_, o) => new Option(`${o} (${sizeOfOrder(o)})`, String(o))));
      this.order = Math.min(DEFAULT_INDEX_ORDER, h.maxOrder);
    }
    this.zoneSelect.value = String(this.zone);
    this.orderSelect.value = String(this.order);
  }

  private draw(): void {
    const h = this.history;
    if (!h || !h.samples.length || this.zone < 0 || !this.panel.open) return;
    const zoneOf = (s: FragHistoryData['samples'][number]) => s.zones[this.zone] ?? { node: 0, zone: '', free: new Array<number>(h.maxOrder + 1).fill(0) };
    const ramp = orderRampColours(this.theme.palette, h.maxOrder).map(cssOf);
    const pages: Array<ChartDataset<'line', Point[]>> = [];
    for (let o = 0; o <= h.maxOrder; o++) {
      pages.push({
        label: `order ${o}`,
        data: h.samples.map((s) => ({ x: s.step, y: zoneOf(s).free[o] * 2 ** o })),
        borderColor: ramp[o],
        backgroundColor: ramp[o],
        fill: o === 0 ? 'origin' : '-1',
        pointRadius: 0,
        borderWidth: 1,
        stepped: true,
      });
    }
    const figures = h.samples.map((s) => ({ step: s.step, z: zoneFragmentation(zoneOf(s)) }));
    const k = this.order;
    const colour = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(`--vscode-charts-${name}`).trim() || fallback;
    const lines: Array<ChartDataset<'line', Point[]>> = [
      { label: `fragmentation index, order ${k}`, data: figures.map((f) => ({ x: f.step, y: f.z.extfragIndex[k] / 1000 })), borderColor: colour('purple', '#b180d7'), backgroundColor: colour('purple', '#b180d7'), yAxisID: 'y', pointRadius: 0, borderWidth: 2, stepped: true },
      { label: `unusable free space index, order ${k}`, data: figures.map((f) => ({ x: f.step, y: f.z.unusableIndex[k] / 1000 })), borderColor: colour('orange', '#d18616'), backgroundColor: colour('orange', '#d18616'), yAxisID: 'y', pointRadius: 0, borderWidth: 2, stepped: true },
      { label: 'largest free order', data: figures.map((f) => ({ x: f.step, y: f.z.largestFreeOrder < 0 ? null : f.z.largestFreeOrder })), borderColor: colour('blue', '#3794ff'), backgroundColor: colour('blue', '#3794ff'), yAxisID: 'orders', pointRadius: 0, borderWidth: 2, borderDash: [5, 3], stepped: true },
    ];
    const zoneName = this.zoneSelect.options[this.zone]?.text ?? '';
    this.blocks = this.render(this.blocks, 'fragBlocks', pages, { stacked: true, title: `Free pages by the order of their block (${zoneName})`, y: { min: 0 } });
    this.indexes = this.render(this.indexes, 'fragIndexes', lines, { stacked: false, title: `Indexes at order ${k} (${sizeOfOrder(k)}) and the largest free order (${zoneName})`, y: { min: -1, max: 1 }, orders: h.maxOrder });
    this.panel.dataset.fragState = 'drawn';
    this.panel.dataset.fragSamples = String(h.samples.length);
    this.panel.dataset.fragLast = String(h.last);
    // The steps the axis spans as drawn (for tests: it follows the history).
    this.panel.dataset.fragAxis = `${this.blocks.scales.x.min}-${this.blocks.scales.x.max}`;
    this.showCursor();
  }

  private render(chart: Chart<'line', Point[]> | undefined, canvasId: string, datasets: Array<ChartDataset<'line', Point[]>>, o: { stacked: boolean; title: string; y: { min?: number; max?: number }; orders?: number }): Chart<'line', Point[]> {
    const t = this.theme;
    const text = t.labelText;
    const grid = t.grid;
    if (chart) {
      chart.data.datasets = datasets;
      chart.options.plugins!.title!.text = o.title;
      // Steps added or dropped since: the axis spans the history as it is now.
      const x = chart.options.scales!.x as { min?: number; max?: number };
      x.min = this.history!.first;
      x.max = this.history!.last;
      if (o.orders !== undefined) (chart.options.scales!.orders as { max?: number }).max = o.orders;
      chart.update('none');
      return chart;
    }
    const canvas = this.panel.querySelector<HTMLCanvasElement>(`#${canvasId}`)!;
    const h = this.history!;
    return new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      plugins: [this.cursorPlugin()],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        onClick: (e, _elements, c) => {
          if (e.x === null) return;
          const step = c.scales.x.getValueForPixel(e.x);
          if (step !== undefined) this.host.goToStep(this.nearestSample(step));
        },
        scales: {
          x: { type: 'linear', min: h.first, max: h.last, title: { display: true, text: 'history step', color: text }, ticks: { color: text, precision: 0 }, grid: { color: grid } },
          y: { type: 'linear', stacked: o.stacked, ...o.y, ticks: { color: text }, grid: { color: grid }, title: { display: true, text: o.stacked ? 'free pages' : 'index', color: text } },
          ...(o.orders !== undefined ? { orders: { type: 'linear' as const, position: 'right' as const, min: 0, max: o.orders, ticks: { color: text, precision: 0 }, grid: { display: false }, title: { display: true, text: 'order', color: text } } } : {}),
        },
        plugins: {
          title: { display: true, text: o.title, color: text, align: 'start' },
          legend: { labels: { color: text, boxWidth: 10, boxHeight: 10 } },
          tooltip: { callbacks: { title: (items) => `step ${items[0]?.parsed.x ?? ''}` } },
        },
      },
    });
  }

  /** The sampled step nearest `step` (a click lands between samples). */
  private nearestSample(step: number): number {
    const samples = this.history?.samples ?? [];
    let best = samples[0]?.step ?? 0;
    for (const s of samples) if (Math.abs(s.step - step) < Math.abs(best - step)) best = s.step;
    return best;
  }

  /** A vertical line at the step the map shows. */
  private cursorPlugin(): Plugin<'line'> {
    return {
      id: 'stepCursor',
      afterDatasetsDraw: (chart) => {
        if (this.at === undefined) return;
        const x = chart.scales.x.getPixelForValue(this.at);
        const { top, bottom, left, right } = chart.chartArea;
        if (x < left - 1 || x > right + 1) return;
        const ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = this.theme.selection;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.stroke();
        ctx.restore();
      },
    };
  }

  /** Moves the cursor and says, in words, what the charts show at the step shown (its nearest sample). */
  private showCursor(): void {
    this.blocks?.draw();
    this.indexes?.draw();
    const h = this.history;
    if (!h || this.at === undefined || this.zone < 0) return;
    const at = this.nearestSample(this.at);
    const sample = h.samples.find((s) => s.step === at);
    const z = sample?.zones[this.zone];
    if (!z) return;
    const f = zoneFragmentation(z);
    const k = this.order;
    const index = (v: number) => (v / 1000).toFixed(3);
    this.atText.textContent = `At step ${at}${at === this.at ? '' : ` (the sample nearest step ${this.at})`}, ${this.zoneSelect.options[this.zone]?.text}: ${f.freePages} free pages; largest free order ${f.largestFreeOrder < 0 ? 'none' : f.largestFreeOrder}; at order ${k}, fragmentation index ${index(f.extfragIndex[k])}, unusable free space index ${index(f.unusableIndex[k])}. Free blocks by order: ${z.free.join(' ')}.`;
    this.panel.dataset.fragAt = String(at);
  }
}
