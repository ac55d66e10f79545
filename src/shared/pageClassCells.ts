/**
 * Cells of the Linux namespace page map: how many pages per cell, and which
 * PAGE_CLASS a cell of several pages is drawn in. A cell takes its most
 * telling class, so one odd page among thousands of ordinary ones still shows;
 * its tooltip gives the exact mix. Pure: used by the host and the webview.
 */
import { PAGE_CLASS, PAGE_CLASS_NAMES } from '../engine/format/linux/structPage';

export const CLASS_COUNT = PAGE_CLASS_NAMES.length;

/** Most telling first: what the kernel could not have written, then rare states, then the bulk of a namespace. */
export const TELLING_ORDER: readonly number[] = [
  PAGE_CLASS.suspect,
  PAGE_CLASS.other,
  PAGE_CLASS.buddy,
  PAGE_CLASS.compoundHead,
  PAGE_CLASS.neverWritten,
  PAGE_CLASS.reserve,
  PAGE_CLASS.compoundTail,
  PAGE_CLASS.device,
  PAGE_CLASS.undescribed,
];

/** At most this many cells: enough to see a namespace's areas, few enough to draw and send at once. */
export const MAX_CELLS = 4096;

/** Pages per cell: the smallest power of two that keeps a namespace of `pages` pages within MAX_CELLS cells. */
export function pagesPerCellFor(pages: number): number {
  let n = 1;
  while (Math.ceil(pages / n) > MAX_CELLS) n *= 2;
  return n;
}

/** The class a cell is drawn in, from its counts (CLASS_COUNT numbers from `at`). */
export function tellingClass(counts: ArrayLike<number>, at = 0): number {
  for (const c of TELLING_ORDER) if (counts[at + c] > 0) return c;
  return PAGE_CLASS.undescribed;
}

/** The mix of a cell in words, largest share first: "62 reserve (not given to the device), 2 never written". */
export function mixText(counts: ArrayLike<number>, at = 0): string {
  const parts: Array<[number, number]> = [];
  for (let c = 0; c < CLASS_COUNT; c++) if (counts[at + c] > 0) parts.push([c, counts[at + c]]);
  parts.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return parts.map(([c, n]) => `${n} ${PAGE_CLASS_NAMES[c]}`).join(', ');
}

/** Adds one class byte per page (pages from `firstPage`) into per-cell counts of cells from `firstCell`. */
export function countInto(counts: Uint32Array, firstCell: number, pagesPerCell: number, firstPage: number, classes: Uint8Array): void {
  for (let i = 0; i < classes.length; i++) {
    const cell = Math.floor((firstPage + i) / pagesPerCell) - firstCell;
    counts[cell * CLASS_COUNT + classes[i]]++;
  }
}
