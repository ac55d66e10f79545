/**
 * The Compare Designs page: the table of what each design costs and keeps,
 * side by side, and two bar charts (where the memmap lives; what each
 * operation writes and flushes) in the theme's chart colours. It draws what
 * the host sends, after checking it.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Title, Tooltip, type ChartDataset } from 'chart.js';
import { binaryUnit, formatBytes } from '../../src/engine/core/units';
import { type CompareView, isCompareView } from '../../src/shared/compareProtocol';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Title, Tooltip, Legend);

declare function acquireVsCodeApi(): { postMessage(msg: unknown): void };
const vscode = acquireVsCodeApi();
const $ = (id: string) => document.getElementById(id)!;

let view: CompareView | undefined;
const charts: Array<Chart<'bar', number[], string>> = [];

/** A theme variable's value, or `fallback` where the theme has none. */
function themed(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function renderTable(v: CompareView): void {
  const table = $('table');
  const head = document.createElement('tr');
  for (const h of v.header) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const rows = v.rows.map((r) => {
    const tr = document.createElement('tr');
    r.forEach((cell, i) => {
      const td = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) (td as HTMLTableCellElement).scope = 'row';
      td.textContent = cell; // text from the engine, never markup
      tr.append(td);
    });
    return tr;
  });
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  tbody.append(...rows);
  table.replaceChildren(thead, tbody);
  $('notes').replaceChildren(...v.notes.map((n) => Object.assign(document.createElement('li'), { textContent: n })));
  $('title').textContent = v.title;
}

function renderCharts(v: CompareView): void {
  for (const c of charts.splice(0)) c.destroy();
  const fg = themed('--vscode-foreground', '#cccccc');
  const grid = themed('--vscode-editorWidget-border', themed('--vscode-panel-border', '#80808059'));
  const colour = (name: string, fallback: string) => themed(`--vscode-charts-${name}`, fallback);
  const c = v.charts;
  const bar = (label: string, data: number[], col: string): ChartDataset<'bar', number[]> => ({ label, data, backgroundColor: col, borderColor: col, borderWidth: 1 });
  const make = (id: string, title: string, datasets: ChartDataset<'bar', number[]>[], tick: (n: number) => string, describe: string, bytes = false) => {
    // Bytes are drawn in the binary unit of the largest (ticks of 0.5 MiB, not of 488.3 KiB); the tooltip says the exact figure.
    const unit = bytes ? binaryUnit(Math.max(...datasets.flatMap((d) => d.data))) : undefined;
    const scale = unit?.bytes ?? 1;
    for (const d of datasets) d.data = d.data.map((x) => x / scale);
    const canvas = $(id) as HTMLCanvasElement;
    canvas.setAttribute('aria-label', describe);
    charts.push(new Chart<'bar', number[], string>(canvas, {
      type: 'bar',
      data: { labels: c.designs, datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        color: fg,
        plugins: {
          title: { display: true, text: title, color: fg },
          legend: { labels: { color: fg } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${tick((item.parsed.y ?? 0) * scale)}` } },
        },
        scales: {
          x: { ticks: { color: fg }, grid: { color: grid } },
          y: { beginAtZero: true, title: { display: !!unit, text: unit?.name ?? '', color: fg }, ticks: { color: fg }, grid: { color: grid } },
        },
      },
    }));
  };
  const words = (values: number[], f: (n: number) => string) => c.designs.map((d, i) => `${d} ${f(values[i])}`).join(', ');
  make('memmapChart', 'Where the memmap lives', [
    bar('on the device', c.deviceBytes, colour('blue', '#3794ff')),
    bar('in RAM', c.ramBytes, colour('orange', '#d18616')),
    bar('in a VM (guest + host)', c.vmBytes, colour('purple', '#b180d7')),
  ], formatBytes, `Memmap on the device: ${words(c.deviceBytes, formatBytes)}. In RAM: ${words(c.ramBytes, formatBytes)}. In a VM: ${words(c.vmBytes, formatBytes)}.`, true);
  const perOp = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
  make('writesChart', 'What each operation writes', [
    bar('bytes written per operation', c.bytesPerOp, colour('green', '#89d185')),
  ], perOp, `Bytes written per operation: ${words(c.bytesPerOp, perOp)}. Flushes per operation: ${words(c.flushesPerOp, (n) => n.toFixed(2))}.`);
  document.body.dataset.charts = String(charts.length);
}

function render(): void {
  if (!view) return;
  renderTable(view);
  renderCharts(view);
  document.body.dataset.designs = view.charts.designs.join(',');
}

window.addEventListener('message', (e: MessageEvent) => {
  if (!isCompareView(e.data)) return; // check before acting
  view = e.data;
  render();
});

// Theme changes switch the body's classes: the charts take the new colours.
new MutationObserver(() => view && renderCharts(view)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

$('openImages').addEventListener('click', () => vscode.postMessage({ type: 'openImages' }));

vscode.postMessage({ type: 'ready' });
