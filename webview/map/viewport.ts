/** Where the map is: the layout for the zoom, the rows in view, and the frame under a point. */
import { cellOf, fitZoom, layoutAt, MAX_CELL_PX, pfnAt } from '../../src/shared/mapGeometry';
import { view } from './model';

/** Width of the axis beside the map: ticks of pfns and physical addresses, and every node and zone by name. */
export const AXIS_PX = 150;
/** In a narrow editor (maps side by side) the axis gives the map room: a third of the width, down to what "pfn 16777216" needs. */
export const NARROW_AXIS_PX = 84;

export const axisPx = () => Math.round(Math.min(AXIS_PX, Math.max(NARROW_AXIS_PX, view.cssWidth * 0.3)));

/** The map's share of the canvas: the axis (pfns, addresses, node and zone labels) takes axisPx() at its right. */
export const mapWidth = () => Math.max(0, view.cssWidth - axisPx());

export function visibleRows(): number {
  return view.layout ? Math.max(1, Math.ceil(view.cssHeight / view.layout.cellPx)) : 0;
}

/** What Page Down moves: the rows wholly in view but one, so the last whole row stays in view (a sliver of a row at the bottom does not count). */
export function pageRows(): number {
  return view.layout ? Math.max(1, Math.floor(view.cssHeight / view.layout.cellPx) - 1) : 1;
}

/** Lays the map out for the zoom asked for (clamped between the fit and the largest cell); `anchor` keeps a frame at a height. */
export function layOut(anchor?: { pfn: number; y: number }): boolean {
  const { state } = view;
  if (!state || view.cssWidth <= 0) return false;
  const total = state.image.totalFrames;
  const width = mapWidth();
  const fit = fitZoom(total, width, view.cssHeight);
  view.zoom = Math.max(fit, Math.min(Math.log2(MAX_CELL_PX), view.userZoom ?? fit));
  if (view.userZoom !== undefined) view.userZoom = view.zoom;
  view.layout = layoutAt(view.zoom, total, width);
  if (anchor) view.topRow = cellOf(view.layout, anchor.pfn).row - Math.floor(anchor.y / view.layout.cellPx);
  clampTop();
  return true;
}

export function clampTop(): void {
  if (!view.layout) return;
  view.topRow = Math.max(0, Math.min(view.topRow, Math.max(0, view.layout.rows - visibleRows())));
}

export function pfnAtPoint(x: number, y: number): number | undefined {
  const { layout, state } = view;
  if (!layout || !state) return undefined;
  const column = Math.floor(x / layout.cellPx);
  const row = view.topRow + Math.floor(y / layout.cellPx);
  if (column < 0 || column >= layout.columns || row < 0) return undefined;
  const pfn = pfnAt(layout, column, row);
  return pfn < state.image.totalFrames ? pfn : undefined;
}
