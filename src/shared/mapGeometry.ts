/**
 * Where frames sit on the map. Rows hold a power of two of frames, so every
 * section and every buddy block (aligned powers of two) is a rectangle. Zoom is
 * log2 of pixels per frame, not necessarily whole (the fit fills the box): when
 * a frame gets less than a pixel, a cell aggregates a power of two of frames.
 */

export const MAX_CELL_PX = 32;

export interface MapLayout {
  /** log2 of pixels per frame (not necessarily whole: the fit fills the box). */
  zoom: number;
  framesPerCell: number;
  /** Cell size in CSS pixels (may be fractional at the fit). */
  cellPx: number;
  columns: number;
  framesPerRow: number;
  rows: number;
}

const EPSILON = 1e-9;
const floorPow2 = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)) + EPSILON);

export function layoutAt(zoom: number, totalFrames: number, widthPx: number): MapLayout {
  const z = Math.min(Math.log2(MAX_CELL_PX), zoom);
  const framesPerCell = z >= 0 ? 1 : 2 ** Math.ceil(-z - EPSILON);
  const cellPx = 2 ** z * framesPerCell;
  const columns = Math.min(floorPow2(widthPx / cellPx), floorPow2(Math.ceil(totalFrames / framesPerCell)));
  const framesPerRow = columns * framesPerCell;
  return { zoom: z, framesPerCell, cellPx, columns, framesPerRow, rows: Math.ceil(totalFrames / framesPerRow) };
}

/** True when the whole device, laid out at `zoom`, fits the box. */
function fits(zoom: number, totalFrames: number, widthPx: number, heightPx: number): boolean {
  const l = layoutAt(zoom, totalFrames, widthPx);
  return l.rows * l.cellPx <= heightPx + 1e-6 && l.columns * l.cellPx <= widthPx + 1e-6;
}

/**
 * The largest zoom at which the whole device fits the box. Candidates are
 * every power-of-two cell size, and for every frames-per-cell and row length
 * the cell size that just fills the box (so the fit need not waste half of it).
 */
export function fitZoom(totalFrames: number, widthPx: number, heightPx: number): number {
  let best = -Infinity;
  const consider = (z: number) => {
    if (z > best && fits(z, totalFrames, widthPx, heightPx)) best = z;
  };
  for (let z = Math.log2(MAX_CELL_PX); z > -64 && best === -Infinity; z--) consider(z);
  for (let perCell = 1; perCell <= totalFrames; perCell *= 2) {
    for (let columns = 1; columns <= widthPx; columns *= 2) {
      const cellPx = Math.min(MAX_CELL_PX, widthPx / columns, heightPx / Math.ceil(totalFrames / (perCell * columns)));
      if (perCell > 1 && (cellPx < 1 || cellPx >= 2)) continue; // aggregated cells are 1 to 2 pixels wide
      consider(Math.log2(cellPx / perCell));
    }
  }
  return best;
}

/** The cell (column, row) holding a pfn. */
export function cellOf(l: MapLayout, pfn: number): { column: number; row: number } {
  const row = Math.floor(pfn / l.framesPerRow);
  return { row, column: Math.floor((pfn - row * l.framesPerRow) / l.framesPerCell) };
}

export function pfnAt(l: MapLayout, column: number, row: number): number {
  return row * l.framesPerRow + column * l.framesPerCell;
}
