/**
 * The rows of a long list a view draws: those in its viewport and a few
 * around them, so a history of 100,000 steps costs a screenful of rows.
 */

export interface RowWindow {
  /** Rows [from, to) are drawn; the rest is empty space of the same height. */
  from: number;
  to: number;
}

/** Rows drawn when the list has no height yet (hidden, or collapsed): a first screenful. */
export const UNSIZED_ROWS = 60;

export function rowWindow(count: number, rowPx: number, scrollTop: number, viewportPx: number, overscan = 20): RowWindow {
  if (count <= 0) return { from: 0, to: 0 };
  if (viewportPx <= 0 || rowPx <= 0) return { from: 0, to: Math.min(count, UNSIZED_ROWS) };
  const top = Math.max(0, Math.min(count - 1, Math.floor(scrollTop / rowPx)));
  const bottom = Math.ceil((scrollTop + viewportPx) / rowPx);
  return { from: Math.max(0, top - overscan), to: Math.min(count, bottom + overscan) };
}

/** Whether a scroll to `scrollTop` shows rows `drawn` lacks (else nothing needs drawing again). */
export function needsDrawing(drawn: RowWindow | undefined, count: number, rowPx: number, scrollTop: number, viewportPx: number): boolean {
  if (!drawn) return true;
  const visible = rowWindow(count, rowPx, scrollTop, viewportPx, 0);
  return visible.from < drawn.from || visible.to > drawn.to;
}
