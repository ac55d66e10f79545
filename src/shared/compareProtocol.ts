/** Messages between the host and the Compare Designs page: the host sends the comparison once the page is ready. */
import type { CompareReport } from '../engine/designs/compare';

export interface CompareView {
  type: 'compare';
  /** A line saying what ran: the workload, its operations and seed, the device size. */
  title: string;
  header: string[];
  rows: string[][];
  /** What the checker verifies and cannot, per design. */
  notes: string[];
  /** The figures the charts draw, per design in the header's order. */
  charts: {
    designs: string[];
    deviceBytes: number[];
    ramBytes: number[];
    vmBytes: number[];
    bytesPerOp: number[];
    flushesPerOp: number[];
  };
}

/** The charts' figures from a report. */
export function compareCharts(r: CompareReport): CompareView['charts'] {
  const d = r.designs;
  return {
    designs: d.map((x) => x.design),
    deviceBytes: d.map((x) => x.memmap.deviceBytes),
    ramBytes: d.map((x) => x.memmap.ramBytes),
    vmBytes: d.map((x) => x.memmap.vm.totalBytes),
    bytesPerOp: d.map((x) => x.workload.bytesPerOp),
    flushesPerOp: d.map((x) => x.workload.flushesPerOp),
  };
}

const numbers = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Whether a message the page received is a comparison it can show (the page checks every message before acting). */
export function isCompareView(m: unknown): m is CompareView {
  if (!m || typeof m !== 'object') return false;
  const v = m as Partial<CompareView>;
  if (v.type !== 'compare' || typeof v.title !== 'string' || !strings(v.header) || !strings(v.notes)) return false;
  if (!Array.isArray(v.rows) || !v.rows.every((r) => strings(r) && r.length === v.header!.length)) return false;
  const c = v.charts;
  if (!c || !strings(c.designs)) return false;
  const n = c.designs.length;
  return numbers(c.deviceBytes, n) && numbers(c.ramBytes, n) && numbers(c.vmBytes, n) && numbers(c.bytesPerOp, n) && numbers(c.flushesPerOp, n);
}
