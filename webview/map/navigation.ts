/** Moving the map: zoom (around a frame), fit, pan, reveal a frame, zoom to a frame of its own, and the fragmentation overlay on or off. */
import { cellOf } from '../../src/shared/mapGeometry';
import { requestCells, requestOverview } from './cells';
import { draw } from './draw';
import { renderLegend } from './legendPanel';
import type { MapMove } from '../../src/shared/protocol';
import { $, save, saveFollowed, view } from './model';
import { clampTop, layOut, visibleRows } from './viewport';

/** A frame to zoom to once the map is laid out (Go to Frame before the first state). */
let zoomPending: number | undefined;

/** Cells of at least this many pixels, one frame each, are what Go to Frame zooms to (the frame grid shows from 8). */
const FRAME_CELL_PX = 8;

/** Lays the map out again (after a resize, a zoom, the first state); `anchor` keeps a frame at a height. */
export function relayout(anchor?: { pfn: number; y: number }): void {
  if (!layOut(anchor) || zoomPending === undefined) return;
  const pfn = zoomPending;
  zoomPending = undefined;
  zoomToFrame(pfn);
}

/** Zooms in (never out) until `pfn` is a cell of its own, at least FRAME_CELL_PX wide, in the middle of the view. */
export function zoomToFrame(pfn: number): void {
  const { layout } = view;
  if (!layout || view.zoom === undefined) {
    zoomPending = pfn; // the map is not laid out yet: once it is
    return;
  }
  if (layout.framesPerCell === 1 && layout.cellPx >= FRAME_CELL_PX) return;
  view.userZoom = Math.max(view.zoom, Math.log2(FRAME_CELL_PX));
  relayout({ pfn, y: Math.floor(view.cssHeight / 2) });
  save();
  requestCells();
}

export function zoomBy(steps: number, anchor?: { pfn: number; y: number }): void {
  const { layout } = view;
  if (view.zoom === undefined || !layout) return;
  const a = anchor ?? (view.selected !== undefined ? { pfn: view.selected, y: (cellOf(layout, view.selected).row - view.topRow) * layout.cellPx } : { pfn: view.topRow * layout.framesPerRow, y: 0 });
  view.userZoom = view.zoom + steps;
  relayout(a);
  save();
  requestCells();
  draw();
}

/** Shows the place another map in step moved to: the same zoom, the same frame at the top. */
export function follow(m: MapMove): void {
  view.userZoom = m.zoom ?? undefined;
  relayout({ pfn: m.topPfn, y: 0 });
  saveFollowed();
  requestCells();
  draw();
}

export function fit(): void {
  view.userZoom = undefined;
  view.topRow = 0;
  relayout();
  save();
  requestCells();
}

export function pan(rows: number): void {
  view.topRow += rows;
  clampTop();
  save();
  requestCells();
}

/** Brings `pfn`'s row into view (to the middle) when it is not. */
export function ensureVisible(pfn: number): void {
  if (!view.layout) return;
  const { row } = cellOf(view.layout, pfn);
  const rows = visibleRows();
  if (row >= view.topRow && row < view.topRow + rows - 1) return;
  view.topRow = row - Math.floor(rows / 2);
  clampTop();
  requestCells();
}

/** Switches the fragmentation overlay on or off: the windows are asked for again, with or without it. */
export function toggleOverlay(): void {
  view.overlay = !view.overlay;
  save();
  showOverlayButton();
  renderLegend();
  requestCells();
  requestOverview();
  draw();
}

export function showOverlayButton(): void {
  $('overlay').setAttribute('aria-pressed', String(view.overlay));
  document.body.dataset.overlay = String(view.overlay);
}
