/**
 * A dynamic image's I/O in flight drawn over the map: the frames that have a
 * descriptor attached from the pool, filled faintly and outlined in the
 * theme's orange, row by row (an I/O is a run of frames, not a block).
 */
import type { MapLayout } from '../src/shared/mapGeometry';
import type { MapIo } from '../src/shared/protocol';
import type { ThemeColours } from './palette';

let colourFor: ThemeColours | undefined;
let colour = '#d18616';

/** The theme's orange, read once per theme. */
export function ioColour(theme: ThemeColours): string {
  if (colourFor !== theme) {
    colour = getComputedStyle(document.body).getPropertyValue('--vscode-charts-orange').trim() || '#d18616';
    colourFor = theme;
  }
  return colour;
}

/** Draws the flights over a view whose first row is `rowOffset` and that shows `rows` rows; records on the body how many frames it drew. */
export function drawIo(ctx: CanvasRenderingContext2D, l: MapLayout, rowOffset: number, rows: number, io: MapIo | undefined, theme: ThemeColours): void {
  const body = document.body.dataset;
  if (!io?.flights.length) {
    delete body.ioFrames;
    return;
  }
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = ioColour(theme);
  ctx.lineWidth = 2;
  let drawn = 0;
  for (const f of io.flights) {
    const end = f.pfn + f.count;
    for (let row = Math.max(Math.floor(f.pfn / l.framesPerRow), Math.floor(rowOffset)); row * l.framesPerRow < end && row < rowOffset + rows; row++) {
      const a = Math.max(f.pfn, row * l.framesPerRow) - row * l.framesPerRow;
      const b = Math.min(end, (row + 1) * l.framesPerRow) - row * l.framesPerRow;
      drawn += b - a;
      const x = Math.floor(a / l.framesPerCell) * l.cellPx;
      const w = Math.ceil(b / l.framesPerCell) * l.cellPx - x;
      const y = (row - rowOffset) * l.cellPx;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(x, y, w, l.cellPx);
      ctx.globalAlpha = 1;
      ctx.strokeRect(x + 1, y + 1, Math.max(1, w - 2), Math.max(1, l.cellPx - 2));
    }
  }
  ctx.restore();
  body.ioFrames = String(drawn);
}
