/**
 * Where frames sit on the map. Rows hold a power of two of frames, so every
 * section and every buddy block (aligned powers of two) is a rectangle. Zoom is
 * a power of two of pixels per frame: below 1, a cell aggregates several frames.
 */

export const MAX_CELL_PX = 32;

export interface MapLayout {
  /** log2 of pixels per frame. */
  zoom: number;
  framesPerCell: number;
  cellPx: number;
  columns: number;
  framesPerRow: number;
  rows: number;
}

const floorPow2 = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));

export function layoutAt(zoom: number, totalFrames: number, widthPx: number): MapLayout {
  const z = Math.min(Math.log2(MAX_CELL_PX), Math.round(zoom));
  const framesPerCell = z >= 0 ? 1 : 2 ** -z;
  const cellPx = z >= 0 ? 2 ** z : 1;
  const columns = Math.min(floorPow2(widthPx / cellPx), floorPow2(Math.ceil(totalFrames / framesPerCell)));
  const framesPerRow = columns * framesPerCell;
  return { zoom: z, framesPerCell, cellPx, columns, framesPerRow, rows: Math.ceil(totalFrames / framesPerRow) };
}

/** The largest zoom at which the whole device fits in the given box. */
export function fitZoom(totalFrames: number, widthPx: number, heightPx: number): number {
  for (let z = Math.log2(MAX_CELL_PX); z > -64; z--) {
    const l = layoutAt(z, totalFrames, widthPx);
    if (l.rows * l.cellPx <= heightPx) return z;
  }
  return -64;
}

/** The cell (column, row) holding a pfn. */
export function cellOf(l: MapLayout, pfn: number): { column: number; row: number } {
  const row = Math.floor(pfn / l.framesPerRow);
  return { row, column: Math.floor((pfn - row * l.framesPerRow) / l.framesPerCell) };
}

export function pfnAt(l: MapLayout, column: number, row: number): number {
  return row * l.framesPerRow + column * l.framesPerCell;
}
