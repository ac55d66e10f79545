/**
 * The benchmark's table: one row per measurement with the engine's median, its
 * spread, the peer measured in the same runs, their ratio and the target.
 * Pure formatting, so it is tested without running anything.
 */
import { summarise } from './stats';

/** How a row's figures read: seconds (lower is better), or a rate (higher is better): operations or events a second, lines of text a second. */
export type Unit = 's' | 'ops/s' | 'lines/s';

/** The runs of one measurement; `error` is the first failure (runs before it are kept). */
export interface Series {
  runs: number[];
  error?: string;
}

export interface Target {
  text: string;
  /** What the bound applies to: the engine's median or the ratio's. */
  of: 'engine' | 'ratio';
  atLeast?: number;
  atMost?: number;
}

export interface Row {
  measurement: string;
  unit: Unit;
  engine: Series;
  /** Peak resident set of the whole process, bytes, per run (whole-process rows only). */
  engineRss?: Series;
  peer?: { name: string; series: Series; rss?: Series; unit?: Unit };
  /** Per run: what the engine's speed is to the peer's (peer time / engine time); 1 or more means at least as fast. */
  ratio?: number[];
  target?: Target;
}

const MiB = 2 ** 20;
const CELL_CHARS = 160;

export function formatValue(x: number, unit: Unit): string {
  if (unit !== 's') return `${Math.round(x).toLocaleString('en-US')} ${unit}`;
  return `${x >= 100 ? x.toFixed(0) : x.toPrecision(3)} s`;
}

function formatRange(min: number, max: number, unit: Unit): string {
  return `${formatValue(min, unit).split(' ')[0]}–${formatValue(max, unit)}`;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** A table cell: one line, no pipe breaking the row, short enough to read. */
export function cell(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const cut = line.length > CELL_CHARS ? `${line.slice(0, CELL_CHARS - 1)}…` : line;
  return cut.replace(/\|/g, '\\|');
}

function figure(series: Series, unit: Unit, rss?: Series): string {
  const s = summarise(series.runs);
  if (!s) return series.error ? `fails: ${series.error}` : '—';
  const r = rss && summarise(rss.runs);
  const main = `${formatValue(s.median, unit)}${r ? `, ${mib(r.median)} peak RSS` : ''}`;
  return series.error ? `${main} (then fails: ${series.error})` : main;
}

function spread(series: Series, unit: Unit, rss?: Series): string {
  const s = summarise(series.runs);
  if (!s || series.runs.length < 2) return '—';
  const r = rss && summarise(rss.runs);
  return `${formatRange(s.min, s.max, unit)}${r ? `, ${(r.min / MiB).toFixed(1)}–${mib(r.max)}` : ''}`;
}

export function medianRatio(row: Row): number | undefined {
  return row.ratio ? summarise(row.ratio)?.median : undefined;
}

/** Whether the row meets its target: 'yes', 'no', or why it cannot be said. */
export function holds(row: Row): string {
  const t = row.target;
  if (!t) return '—';
  const value = t.of === 'engine' ? summarise(row.engine.runs)?.median : medianRatio(row);
  if (value === undefined) {
    if (row.engine.runs.length === 0) return row.engine.error ? 'no (fails)' : 'not run';
    return 'unknown (no peer)';
  }
  const ok = (t.atLeast === undefined || value >= t.atLeast) && (t.atMost === undefined || value <= t.atMost);
  return ok ? 'yes' : 'no';
}

function peerCell(row: Row): string {
  if (!row.peer) return '—';
  return `${row.peer.name}: ${figure(row.peer.series, row.peer.unit ?? row.unit, row.peer.rss).replace(/^fails: /, 'unavailable: ')}`;
}

function ratioCell(row: Row): string {
  const r = medianRatio(row);
  return r === undefined ? '—' : `${r.toPrecision(3)}×`;
}

export function renderTable(rows: Row[]): string {
  const head = ['Measurement', 'Engine (median)', 'Spread (min–max)', 'Peer, same runs (median)', 'Ratio', 'Target', 'Holds'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const cells = [row.measurement, figure(row.engine, row.unit, row.engineRss), spread(row.engine, row.unit, row.engineRss), peerCell(row), ratioCell(row), row.target?.text ?? '—', holds(row)];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

function seriesJson(series: Series | undefined) {
  if (!series) return undefined;
  return { ...summarise(series.runs), runs: series.runs, ...(series.error ? { error: series.error } : {}) };
}

/** The same figures as the table, with every run, for bench/results/. */
export function rowJson(row: Row) {
  return {
    measurement: row.measurement,
    unit: row.unit,
    engine: seriesJson(row.engine),
    engineRssBytes: seriesJson(row.engineRss),
    peer: row.peer && { name: row.peer.name, unit: row.peer.unit ?? row.unit, ...seriesJson(row.peer.series), rssBytes: seriesJson(row.peer.rss) },
    ratio: row.ratio && { ...summarise(row.ratio), runs: row.ratio },
    target: row.target?.text,
    holds: holds(row),
  };
}
