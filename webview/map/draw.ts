/**
 * The map's drawing: the cells (coloured once, then again only where they
 * changed), stale hatching, the frame grid, section lines, block outlines,
 * node and zone bands, the selection, the chain overlay, the axis, the change
 * flashes and the overview strip. It reads the view and draws; it asks the
 * host for nothing.
 */
import { formatBytes } from '../../src/engine/core/units';
import { MIX_STRIDE } from '../../src/engine/inspect/mapCodes';
import { cellOf, MapLayout } from '../../src/shared/mapGeometry';
import { rasterise, rasteriseLargestFree, staleHatchAt } from '../../src/shared/mapRaster';
import { drawChain } from '../chainOverlay';
import { drawIo } from '../ioOverlay';
import { cssOf, ThemeColours } from '../palette';
import { $, canvas, Cells, overview, post, previews, slotsFor, summary, view } from './model';
import { postView } from './viewReport';
import { visibleRows } from './viewport';

const ctx = canvas.getContext('2d')!;
const octx = overview.getContext('2d')!;

/** The axis lies over the canvas, right of the drawn columns, so the map's own coordinates stay those of the canvas. */
const axis = document.createElement('canvas');
axis.id = 'axis';
axis.setAttribute('aria-hidden', 'true');
canvas.after(axis);
const actx = axis.getContext('2d')!;
/** How many frames a cell holds, beside the zoom buttons. */
const scale = document.createElement('span');
scale.id = 'scale';
scale.className = 'muted';
scale.setAttribute('aria-live', 'polite');
$('fit').after(scale);

/** The system's wish for less motion turns the change flash off, like the setting does. */
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');
/** Cells that just changed, flashing briefly: index into the window, start time. */
let flashes: Array<{ cell: number; start: number }> = [];

/**
 * Changed cells flash, in frame order, so a split, a merge or a wave of lazy
 * init can be followed; `more` adds them to those flashing (another patch of one change).
 */
export function flash(changed: number[], more = false): void {
  const now = performance.now();
  const animate = view.state?.animateChanges !== false && !reducedMotion.matches;
  const added = !animate || changed.length > 50000 ? [] : changed.map((cell, i) => ({ cell, start: now + (changed.length > 1 ? (i / changed.length) * SWEEP_MS : 0) }));
  flashes = more ? flashes.concat(added) : added;
  if (changed.length) {
    document.body.dataset.changedCells = String(changed.length);
    document.body.dataset.flashes = String(flashes.length);
  }
}

/** The coloured pixels of the current window, and which cells changed since they were coloured. */
let pixels: { source: Cells; theme: ThemeColours; image: ImageData; dirty?: number[]; preview?: boolean; overlaid: boolean } | undefined;
const offscreen = document.createElement('canvas');
const offctx = offscreen.getContext('2d')!;

/** The newest state version drawn from real cells, as told to the host. */
let drawnVersion = -1;

export function draw(): void {
  const started = performance.now();
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = cssOf(view.theme.palette.background);
  ctx.fillRect(0, 0, view.cssWidth, view.cssHeight);
  if (!view.layout || !view.state) return;
  // The window's cells, or while they are on their way a preview of them: never other cells in this layout.
  const shown = previews.picture(view.wanted, view.cells, view.overviewCells, view.state.image.totalFrames);
  if (!shown) return;
  const real = shown === view.cells;
  const l = view.layout;
  const rows = Math.ceil(shown.cells / l.columns);
  if (shown.cells > 0) {
    if (offscreen.width !== l.columns || offscreen.height !== rows) {
      offscreen.width = l.columns;
      offscreen.height = rows;
    }
    const largest = 'largestFree' in shown ? shown.largestFree : undefined;
    const overlaid = view.overlay && largest !== undefined;
    if (!pixels || pixels.source !== shown || pixels.theme !== view.theme || pixels.overlaid !== overlaid) {
      // After a change in the same window, only the changed cells are coloured again.
      const sameSize = pixels && pixels.image.width === l.columns && pixels.image.height === rows;
      const reuse = sameSize && pixels!.dirty && pixels!.theme === view.theme && !pixels!.preview && pixels!.overlaid === overlaid;
      const image = sameSize ? pixels!.image : offctx.createImageData(l.columns, rows); // a 4 MiB buffer is not made afresh per redraw
      if (overlaid) rasteriseLargestFree(shown, largest!, view.theme.palette, view.state.image.maxOrder, image.data, reuse ? pixels!.dirty : undefined);
      else rasterise(shown, view.theme.palette, view.state.image.maxOrder, image.data, reuse ? pixels!.dirty : undefined, slotsFor(shown));
      offctx.putImageData(image, 0, 0);
      document.body.dataset.rasterised = String(reuse ? pixels!.dirty!.length : shown.cells);
      document.body.dataset.overlaid = String(overlaid);
      pixels = { source: shown, theme: view.theme, image, preview: !real, overlaid };
    }
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(offscreen, 0, 0, l.columns * l.cellPx, rows * l.cellPx);
    if (!overlaid) drawStale(l, shown, rows); // the overlay is of the free lists alone
  }
  const rowOffset = shown.firstPfn / l.framesPerRow;
  drawGrid(l, rows);
  drawSections(l, rowOffset, rows);
  if (real) drawBlocks(l, rowOffset);
  drawBands(l, rowOffset, rows);
  drawSelection(l, rowOffset);
  if (real) drawChain(ctx, l, rowOffset, view.theme);
  drawIo(ctx, l, rowOffset, rows, view.state.io, view.theme);
  drawAxis(l);
  if (real) drawFlashes(l);
  drawOverview();
  document.body.dataset.drawMs = (performance.now() - started).toFixed(2);
  if (!real) {
    document.body.dataset.previewMs = previews.sampleMs.toFixed(2);
    return;
  }
  summary.drawn(shown.version);
  postView(shown as Cells);
  if (shown.version > drawnVersion) {
    drawnVersion = shown.version;
    post({ type: 'drawn', version: shown.version }); // the host times a change to its picture by this
  }
  document.body.dataset.cells = String(shown.cells);
}

/** Which cells are stale (alpha), one pixel per cell, and the hatch drawn over them in screen pixels. */
const staleMask = document.createElement('canvas');
const staleCtx = staleMask.getContext('2d')!;
const hatchLayer = document.createElement('canvas');
const hatchCtx = hatchLayer.getContext('2d')!;
let staleOf: { cells: unknown; any: boolean } | undefined;
let hatch: { theme: ThemeColours; pattern: CanvasPattern } | undefined;

/** Stale sections: a hatch in the stale colour over the (dimmed) state they hold, whatever the cell size. */
function drawStale(l: MapLayout, shown: { cells: number; mix: Uint8Array }, rows: number): void {
  if (staleOf?.cells !== shown) {
    let any = false;
    if (staleMask.width !== l.columns || staleMask.height !== rows) {
      staleMask.width = l.columns;
      staleMask.height = rows;
    }
    const image = staleCtx.createImageData(l.columns, rows);
    for (let c = 0; c < shown.cells; c++) {
      if (shown.mix[c * MIX_STRIDE + 5]) {
        image.data[c * 4 + 3] = 255;
        any = true;
      }
    }
    staleCtx.putImageData(image, 0, 0);
    staleOf = { cells: shown, any };
  }
  if (!staleOf.any) return;
  if (hatch?.theme !== view.theme) {
    const tile = document.createElement('canvas');
    tile.width = tile.height = 6;
    const t = tile.getContext('2d')!;
    const image = t.createImageData(6, 6);
    const [r, g, b] = view.theme.palette.stale;
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) if (staleHatchAt(x, y)) image.data.set([r, g, b, 255], (y * 6 + x) * 4);
    t.putImageData(image, 0, 0);
    hatch = { theme: view.theme, pattern: hatchCtx.createPattern(tile, 'repeat')! };
  }
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(l.columns * l.cellPx * dpr));
  const h = Math.max(1, Math.round(rows * l.cellPx * dpr));
  hatchLayer.width = w; // also clears it
  hatchLayer.height = h;
  hatchCtx.imageSmoothingEnabled = false;
  hatchCtx.drawImage(staleMask, 0, 0, w, h);
  hatchCtx.globalCompositeOperation = 'source-in';
  hatchCtx.fillStyle = hatch.pattern;
  hatchCtx.fillRect(0, 0, w, h);
  hatchCtx.globalCompositeOperation = 'source-over';
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(hatchLayer, 0, 0);
  ctx.restore();
}

/** Close up, a faint grid separates single frames. */
function drawGrid(l: MapLayout, rows: number): void {
  if (l.cellPx < 8) return;
  ctx.strokeStyle = view.theme.outline;
  ctx.globalAlpha = 0.35;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let c = 1; c < l.columns; c++) {
    ctx.moveTo(c * l.cellPx + 0.5, 0);
    ctx.lineTo(c * l.cellPx + 0.5, rows * l.cellPx);
  }
  for (let r = 1; r < rows; r++) {
    ctx.moveTo(0, r * l.cellPx + 0.5);
    ctx.lineTo(l.columns * l.cellPx, r * l.cellPx + 0.5);
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function drawSections(l: MapLayout, rowOffset: number, rows: number): void {
  if (!view.state) return;
  const sf = view.state.image.sectionFrames;
  ctx.strokeStyle = view.theme.grid;
  ctx.lineWidth = 1;
  // Dense boundaries fade so they do not hide the cells.
  const spacing = (sf >= l.framesPerRow ? sf / l.framesPerRow : sf / l.framesPerCell) * l.cellPx;
  ctx.globalAlpha = spacing >= 24 ? 0.9 : 0.45;
  ctx.beginPath();
  if (sf >= l.framesPerRow) {
    const every = sf / l.framesPerRow;
    if (every * l.cellPx >= 6) {
      for (let r = Math.ceil(rowOffset / every) * every; r <= rowOffset + rows; r += every) {
        const y = (r - rowOffset) * l.cellPx + 0.5;
        ctx.moveTo(0, y);
        ctx.lineTo(l.columns * l.cellPx, y);
      }
    }
  } else {
    const every = sf / l.framesPerCell;
    if (every * l.cellPx >= 6) {
      for (let c = every; c < l.columns; c += every) {
        ctx.moveTo(c * l.cellPx + 0.5, 0);
        ctx.lineTo(c * l.cellPx + 0.5, rows * l.cellPx);
      }
    }
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function blockRect(l: MapLayout, rowOffset: number, pfn: number, order: number): [number, number, number, number] {
  const size = 2 ** order;
  const { row, column } = cellOf(l, pfn);
  const y = (row - rowOffset) * l.cellPx;
  if (size / l.framesPerCell <= l.columns) return [column * l.cellPx, y, (size / l.framesPerCell) * l.cellPx, l.cellPx];
  return [0, y, l.columns * l.cellPx, (size / l.framesPerRow) * l.cellPx];
}

function drawBlocks(l: MapLayout, rowOffset: number): void {
  if (!view.cells || l.framesPerCell !== 1 || l.cellPx < 4) return;
  ctx.strokeStyle = view.theme.outline;
  ctx.lineWidth = 1;
  for (let i = 0; i < view.cells.blocks.length; i += 2) {
    const [x, y, w, h] = blockRect(l, rowOffset, view.cells.blocks[i], view.cells.blocks[i + 1]);
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  }
}

/** Node and zone boundaries: a coloured step line with a label where there is room. */
function drawBands(l: MapLayout, rowOffset: number, rows: number): void {
  // Over cells of a pixel or two a line would hide a row of them: the axis marks the boundary instead.
  if (!view.state || l.cellPx < 4) return;
  ctx.strokeStyle = view.theme.band;
  ctx.lineWidth = 2;
  for (const n of view.state.image.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0 || z.firstPfn === 0) continue;
      const { row, column } = cellOf(l, z.firstPfn);
      if (row < rowOffset || row > rowOffset + rows) continue;
      const y = (row - rowOffset) * l.cellPx;
      ctx.beginPath();
      ctx.moveTo(column * l.cellPx, y + l.cellPx);
      ctx.lineTo(column * l.cellPx, y);
      ctx.lineTo(l.columns * l.cellPx, y);
      ctx.stroke();
      // Its label is on the axis beside the map, never over a cell.
    }
  }
}

/** The axis right of the map: pfn and physical address ticks at round rows, and a label for every node and zone starting in view. */
function drawAxis(l: MapLayout): void {
  if (!view.state) return;
  const left = canvas.offsetLeft + l.columns * l.cellPx + 6;
  const width = Math.max(0, view.cssWidth - l.columns * l.cellPx - 6);
  const dpr = window.devicePixelRatio || 1;
  axis.style.left = `${left}px`;
  axis.style.width = `${width}px`;
  axis.style.height = `${view.cssHeight}px`;
  if (axis.width !== Math.round(width * dpr) || axis.height !== Math.round(view.cssHeight * dpr)) {
    axis.width = Math.round(width * dpr);
    axis.height = Math.round(view.cssHeight * dpr);
  }
  actx.setTransform(dpr, 0, 0, dpr, 0, 0);
  actx.clearRect(0, 0, width, view.cssHeight);
  actx.font = '11px var(--vscode-font-family), sans-serif';
  actx.textBaseline = 'top';
  const rows = visibleRows();
  const total = view.state.image.totalFrames;
  const yOf = (pfn: number) => (pfn / l.framesPerRow - view.topRow) * l.cellPx;
  // Labels first (every node and zone in view, the one at the top included): ticks give way to them.
  const taken: Array<[number, number]> = [];
  const labels: string[] = [];
  actx.lineWidth = 1;
  for (const n of view.state.image.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0) continue;
      const end = z.firstPfn + z.frames;
      if (end <= view.topRow * l.framesPerRow || z.firstPfn >= (view.topRow + rows) * l.framesPerRow) continue;
      const at = Math.max(z.firstPfn, view.topRow * l.framesPerRow);
      let y = Math.max(0, yOf(at - (at % l.framesPerRow)));
      while (taken.some(([a, b]) => y < b && y + 15 > a)) y += 16;
      if (y > view.cssHeight - 15) continue;
      taken.push([y, y + 15]);
      const text = `node ${n.id} · ${z.name}${z.firstPfn < at ? ' ↑' : ''}`;
      labels.push(text);
      const w = actx.measureText(text).width;
      actx.fillStyle = view.theme.labelPlate;
      actx.fillRect(0.5, y + 0.5, w + 8, 14);
      actx.strokeStyle = view.theme.band;
      actx.strokeRect(0.5, y + 0.5, w + 8, 14);
      actx.fillStyle = view.theme.labelText;
      actx.fillText(text, 4.5, y + 2);
    }
  }
  // Ticks every power of two of rows at least 40 px apart: round pfns.
  const every = 2 ** Math.max(0, Math.ceil(Math.log2(40 / l.cellPx)));
  actx.strokeStyle = view.theme.grid;
  for (let r = Math.ceil(view.topRow / every) * every; r <= view.topRow + rows; r += every) {
    const pfn = r * l.framesPerRow;
    if (pfn > total) break;
    const y = (r - view.topRow) * l.cellPx;
    if (y > view.cssHeight - 24 || taken.some(([a, b]) => y - 1 < b && y + 25 > a)) continue;
    actx.beginPath();
    actx.moveTo(-6, y + 0.5);
    actx.lineTo(4, y + 0.5);
    actx.stroke();
    actx.fillStyle = view.theme.labelText;
    actx.fillText(`pfn ${pfn}`, 8, y + 1);
    actx.fillStyle = view.theme.grid;
    actx.fillText(`0x${(pfn * 4096).toString(16)}`, 8, y + 13);
  }
  document.body.dataset.axisLabels = labels.join('|'); // for tests: what the axis names
  const perCell = l.framesPerCell === 1 ? '1 frame per cell' : `${l.framesPerCell} frames per cell`;
  const text = `${perCell} (${formatBytes(l.framesPerCell * 4096)})`;
  if (scale.textContent !== text) scale.textContent = text;
}

function drawSelection(l: MapLayout, rowOffset: number): void {
  if (view.selected === undefined) return;
  const { row, column } = cellOf(l, view.selected);
  const size = Math.max(l.cellPx, 4);
  ctx.strokeStyle = view.theme.selection;
  ctx.lineWidth = 2;
  ctx.strokeRect(column * l.cellPx - (size - l.cellPx) / 2, (row - rowOffset) * l.cellPx - (size - l.cellPx) / 2, size, size);
  if (view.selectedFrame?.blockPfn !== undefined && view.selectedFrame.order !== undefined && l.framesPerCell === 1) {
    ctx.setLineDash([3, 2]);
    ctx.lineWidth = 1;
    const [x, y, w, h] = blockRect(l, rowOffset, view.selectedFrame.blockPfn, view.selectedFrame.order);
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    ctx.setLineDash([]);
  }
}

const FLASH_MS = 700;
/** The sweep: later cells start later, so lazy init is seen reaching sections one by one. */
const SWEEP_MS = 600;
/** The animation frame the flashes asked for (0: none). */
let flashFrame = 0;

function drawFlashes(l: MapLayout): void {
  if (!flashes.length) return;
  const now = performance.now();
  flashes = flashes.filter((f) => now - f.start < FLASH_MS);
  for (const f of flashes) {
    const t = (now - f.start) / FLASH_MS;
    if (t < 0) continue;
    ctx.fillStyle = `${view.theme.flash}${(0.55 * (1 - t)).toFixed(3)})`;
    const column = f.cell % l.columns;
    const row = Math.floor(f.cell / l.columns);
    ctx.fillRect(column * l.cellPx, row * l.cellPx, Math.max(l.cellPx, 1), Math.max(l.cellPx, 1));
  }
  // One frame asked for at a time: every draw comes here, and each asking anew would add a whole redraw to every frame until the flashes end.
  if (flashes.length) flashFrame ||= requestAnimationFrame(() => {
    flashFrame = 0;
    draw();
  });
}

function drawOverview(): void {
  const h = overview.clientHeight;
  const w = overview.clientWidth;
  const dpr = window.devicePixelRatio || 1;
  if (overview.width !== Math.round(w * dpr) || overview.height !== Math.round(h * dpr)) {
    overview.width = Math.round(w * dpr);
    overview.height = Math.round(h * dpr);
  }
  octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  octx.fillStyle = cssOf(view.theme.palette.background);
  octx.fillRect(0, 0, w, h);
  if (!view.overviewCells || !view.state || !view.layout) return;
  const strip = document.createElement('canvas');
  strip.width = 1;
  strip.height = view.overviewCells.cells;
  const sctx = strip.getContext('2d')!;
  const image = sctx.createImageData(1, view.overviewCells.cells);
  if (view.overlay && view.overviewCells.largestFree) rasteriseLargestFree(view.overviewCells, view.overviewCells.largestFree, view.theme.palette, view.state.image.maxOrder, image.data);
  else rasterise(view.overviewCells, view.theme.palette, view.state.image.maxOrder, image.data, undefined, slotsFor(view.overviewCells));
  sctx.putImageData(image, 0, 0);
  octx.imageSmoothingEnabled = true;
  octx.drawImage(strip, 0, 0, w, h);
  const total = view.state.image.totalFrames;
  const top = ((view.topRow * view.layout.framesPerRow) / total) * h;
  const bottom = Math.min(h, (((view.topRow + visibleRows()) * view.layout.framesPerRow) / total) * h);
  octx.strokeStyle = view.theme.selection;
  octx.lineWidth = 2;
  octx.strokeRect(1, top + 1, w - 2, Math.max(3, bottom - top - 2));
}

// ---------------------------------------------------------------- text

/** Of the cells `source` held, only `changed` need colouring again (they were patched in place, or a new answer for the same window differs there). */
export function recolourOnly(source: Cells, changed: number[]): void {
  if (pixels?.source === source) pixels.dirty = changed;
}
