/**
 * The map as a picture without a browser: cells scaled to pixels, stale
 * sections hatched, an axis of pfns and addresses on the right and a legend
 * under it, as the editor shows them. `pmem map` draws the whole device with
 * it; Export Map draws the editor's current view with it, on the host.
 * Browser-safe: the PNG encoding is src/engine/node/pngFile.ts.
 */
import { info, type PmemImage } from '../engine';
import type { MapCells } from '../engine/inspect/mapCells';
import { MIX_STRIDE } from '../engine/inspect/mapCodes';
import { contrastRatio } from './mapContrast';
import { MapPalette, noFreeColour, orderRampColours, ownerColour, rasterise, rasteriseLargestFree, Rgb, staleHatchAt } from './mapRaster';
import { OWNER_SLOTS, OwnerSlots, ownerPalette } from './ownerPalette';
import { drawText, TEXT_HEIGHT, textWidth } from './pixelText';
import { memmapLegendWords } from './words';

/** Pixels row by row, RGBA, every pixel opaque. */
export interface Picture {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Where cells go: `columns` by `rows` cells of `cellPx` pixels (possibly fractional) from `firstPfn`, in a picture of `width` × `height`. */
export interface MapBox {
  firstPfn: number;
  framesPerCell: number;
  columns: number;
  rows: number;
  cellPx: number;
  width: number;
  height: number;
}

export interface PaintOptions {
  /** The largest-free-order overlay instead of the states (one order per cell, 0xff for none). */
  largestFree?: Uint8Array;
  /** Owner colour slots as the editor gave them (otherwise each owner takes its preferred slot). */
  slots?: ReadonlyMap<string, number>;
  /** Runs of frames under I/O (a dynamic image), drawn as the editor draws them: a faint fill and an outline, row by row. */
  io?: ReadonlyArray<{ pfn: number; count: number }>;
}

/** For each of `pixels` pixels along an axis, the cell under its centre (cells are `cellPx` wide, possibly fractional). */
function cellUnderPixel(pixels: number, cellPx: number, cells: number): Int32Array {
  const index = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) index[p] = Math.min(cells - 1, Math.floor((p + 0.5) / cellPx));
  return index;
}

const wordOf = (c: Rgb) => ((255 << 24) | (Math.round(c[2]) << 16) | (Math.round(c[1]) << 8) | Math.round(c[0])) >>> 0;

/**
 * The cells of `box` as pixels: nearest-neighbour scaled, as the editor's
 * canvas scales them without smoothing; beyond the cells, the background.
 */
export function paintMap(cells: MapCells, box: MapBox, palette: MapPalette, maxOrder: number, o: PaintOptions = {}): Picture {
  const { columns, width, height } = box;
  const colours = new Uint8ClampedArray(Math.max(1, cells.cells) * 4);
  if (o.largestFree) rasteriseLargestFree(cells, o.largestFree, palette, maxOrder, colours);
  else rasterise(cells, palette, maxOrder, colours, undefined, o.slots);
  const pixels = new Uint32Array(width * height).fill(wordOf(palette.background));
  const cellColour = new Uint32Array(colours.buffer);
  const drawnWidth = Math.min(width, Math.round(columns * box.cellPx));
  const drawnRows = Math.ceil(cells.cells / columns);
  const drawnHeight = Math.min(height, Math.round(drawnRows * box.cellPx));
  const columnAt = cellUnderPixel(drawnWidth, box.cellPx, columns);
  const rowAt = cellUnderPixel(drawnHeight, box.cellPx, Math.max(1, drawnRows));
  const stale = wordOf(palette.stale);
  for (let y = 0; y < drawnHeight; y++) {
    const line = y * width;
    const first = rowAt[y] * columns;
    for (let x = 0; x < drawnWidth; x++) {
      const cell = first + columnAt[x];
      if (cell >= cells.cells) continue;
      // Stale sections: a hatch in the stale colour over the (dimmed) state they hold; the overlay is of the free lists alone.
      pixels[line + x] = !o.largestFree && staleHatchAt(x, y) && cells.mix[cell * MIX_STRIDE + 5] ? stale : cellColour[cell];
    }
  }
  if (o.io?.length) paintIo(pixels, box, drawnWidth, drawnHeight, o.io, palette.io);
  return { width, height, rgba: new Uint8Array(pixels.buffer) };
}

/** Runs of frames under I/O as runs of cells of a view from `firstPfn`, `columns` cells a row, split at row ends (cells: how many the view has). */
export function ioCellRuns(io: ReadonlyArray<{ pfn: number; count: number }>, firstPfn: number, framesPerCell: number, columns: number, cells: number): Array<{ cell: number; cells: number }> {
  const out: Array<{ cell: number; cells: number }> = [];
  for (const f of io) {
    const first = Math.max(0, Math.floor((f.pfn - firstPfn) / framesPerCell));
    const end = Math.min(cells, Math.ceil((f.pfn + f.count - firstPfn) / framesPerCell));
    for (let c = first; c < end; ) {
      const rowEnd = (Math.floor(c / columns) + 1) * columns;
      const stop = Math.min(end, rowEnd);
      out.push({ cell: c, cells: stop - c });
      c = stop;
    }
  }
  return out;
}

/** Each run of frames under I/O, per row of cells it covers: 35 % of the colour over the cells, and a 2-pixel outline. */
function paintIo(pixels: Uint32Array, box: MapBox, drawnWidth: number, drawnHeight: number, io: ReadonlyArray<{ pfn: number; count: number }>, colour: Rgb): void {
  const { width, columns, cellPx, framesPerCell, firstPfn } = box;
  const framesPerRow = columns * framesPerCell;
  const line = wordOf(colour);
  const tint = (word: number) => {
    const blend = (shift: number, c: number) => Math.round(((word >>> shift) & 255) * 0.65 + c * 0.35);
    return wordOf([blend(0, colour[0]), blend(8, colour[1]), blend(16, colour[2])]);
  };
  for (const f of io) {
    const from = Math.max(f.pfn, firstPfn) - firstPfn;
    const end = f.pfn + f.count - firstPfn;
    for (let row = Math.floor(from / framesPerRow); row * framesPerRow < end; row++) {
      const a = Math.max(from, row * framesPerRow) - row * framesPerRow;
      const b = Math.min(end, (row + 1) * framesPerRow) - row * framesPerRow;
      const x0 = Math.round(Math.floor(a / framesPerCell) * cellPx);
      const x1 = Math.min(drawnWidth, Math.round(Math.ceil(b / framesPerCell) * cellPx));
      const y0 = Math.round(row * cellPx);
      const y1 = Math.min(drawnHeight, Math.round((row + 1) * cellPx));
      if (y0 >= drawnHeight) break;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const edge = x < x0 + 2 || x >= x1 - 2 || y < y0 + 2 || y >= y1 - 2;
          pixels[y * width + x] = edge ? line : tint(pixels[y * width + x]);
        }
      }
    }
  }
}

const SCALE = 2;
const LINE = (TEXT_HEIGHT + 2) * SCALE;

export interface LegendOptions {
  overlay?: boolean;
  /** False: the axis alone, no legend under the map. */
  legend?: boolean;
  /** The picture keeps its width (the editor's view): the axis has the room right of the cells, long legend lines are cut. */
  keepWidth?: boolean;
  /** The owners of the cells drawn, and their colour slots as painted. */
  owners: string[];
  /** Frames under I/O are drawn: the legend says what the outline means. */
  io?: boolean;
  slots?: ReadonlyMap<string, number>;
}

/**
 * The map with an axis right of its cells (pfns and physical addresses at
 * round rows, every node and zone named where it starts in view) and a
 * legend under it (every state, the owners drawn, the stale hatch), as the
 * editor shows them. The axis takes the picture's room right of the cells
 * and widens it when that is too narrow.
 */
export function withAxisAndLegend(img: PmemImage, map: Picture, box: MapBox, palette: MapPalette, o: LegendOptions): Picture {
  const p = palette;
  const text = wordOf(contrastRatio([255, 255, 255], p.background) > contrastRatio([0, 0, 0], p.background) ? [230, 230, 230] : [40, 40, 40]);
  const muted = wordOf(p.never);
  const i = info(img);
  const total = img.geometry.totalFrames;
  const framesPerRow = box.framesPerCell * box.columns;
  const firstRow = box.firstPfn / framesPerRow;
  const rowsShown = map.height / box.cellPx;
  const yOfRow = (row: number) => Math.floor((row - firstRow) * box.cellPx);
  // Axis entries (y, lines, word), labels first; ticks give way to them.
  const labels: Array<{ y: number; lines: string[]; word: number }> = [];
  for (const n of i.nodes) {
    for (const z of n.zones) {
      if (!z.frames) continue;
      const end = z.firstPfn + z.frames;
      if (end <= box.firstPfn || Math.floor(z.firstPfn / framesPerRow) >= firstRow + rowsShown) continue;
      let y = Math.max(0, yOfRow(Math.floor(Math.max(z.firstPfn, box.firstPfn) / framesPerRow)));
      while (labels.some((e) => Math.abs(e.y - y) < LINE)) y += LINE;
      labels.push({ y, lines: [`node ${n.id} · ${z.name}${z.firstPfn < box.firstPfn ? ' ↑' : ''}`], word: text });
    }
  }
  const every = 2 ** Math.max(0, Math.ceil(Math.log2((3 * LINE) / box.cellPx)));
  for (let r = Math.ceil(firstRow / every) * every; r * framesPerRow < total && r < firstRow + rowsShown; r += every) {
    const y = yOfRow(r);
    if (y + 2 * LINE > map.height || labels.some((e) => y < e.y + e.lines.length * LINE && y + 2 * LINE > e.y)) continue;
    labels.push({ y, lines: [`pfn ${r * framesPerRow}`, `0x${(r * framesPerRow * 4096).toString(16)}`], word: muted });
  }
  const cellsWidth = Math.min(map.width, Math.round(box.columns * box.cellPx));
  const axisNeeds = 8 + Math.max(0, ...labels.flatMap((e) => e.lines.map((t) => textWidth(t, SCALE))));
  // Legend entries: a swatch (one colour, stripes, or a hatch) and its words.
  const slots = o.slots ?? new OwnerSlots(OWNER_SLOTS).slotsOf(o.owners);
  const owners = [...new Set(o.owners.filter(Boolean))].sort();
  const other = owners.filter((w) => (slots.get(w) ?? -1) < 0);
  const op = ownerPalette(p);
  type Entry = { swatch: (x: number, y: number) => number; label: string };
  const solid = (c: Rgb) => () => wordOf(c);
  const maxOrder = img.geometry.maxOrder;
  const ramp = orderRampColours(p, maxOrder);
  const faded = noFreeColour(p);
  const ioEntry = o.io ? [{ swatch: (x: number, y: number) => wordOf(x < 2 || x >= 10 || y < 2 || y >= LINE - 4 ? p.io : p.background), label: 'under I/O: a descriptor from the pool attached' }] : [];
  const memmap = img.layout.memmap.frames > 0 ? [{ swatch: solid(p.memmap), label: memmapLegendWords(i.design) }] : [];
  const entries: Entry[] = o.legend === false ? [] : o.overlay ? [
    { swatch: solid(p.metadata), label: 'metadata (superblock, tables, journal, history)' },
    ...memmap,
    { swatch: (x) => wordOf(ramp[Math.min(maxOrder, Math.floor((x / 12) * (maxOrder + 1)))]), label: `largest free block in the cell: order 0 (red) → order ${maxOrder} (blue)` },
    { swatch: solid(faded), label: 'no free block in the cell (allocated)' },
    { swatch: solid(p.never), label: 'never initialised' },
    ...ioEntry,
  ] : [
    { swatch: solid(p.metadata), label: 'metadata (superblock, tables, journal, history)' },
    ...memmap,
    { swatch: (x) => wordOf(x < 4 ? p.freeSmall : x < 8 ? [(p.freeSmall[0] + p.freeLarge[0]) / 2, (p.freeSmall[1] + p.freeLarge[1]) / 2, (p.freeSmall[2] + p.freeLarge[2]) / 2] : p.freeLarge), label: `free blocks, shaded by order: faintest order 0 → strongest order ${maxOrder}` },
    { swatch: solid(p.allocated), label: 'allocated' },
    ...owners.filter((w) => (slots.get(w) ?? -1) >= 0).map((w) => ({ swatch: solid(ownerColour(w, p, slots)!), label: `owner ${w}` })),
    ...(other.length ? [{ swatch: (x: number) => wordOf(x & 1 ? op.otherStripe : op.other), label: `other owners: ${other.join(', ')}` }] : []),
    { swatch: solid(p.never), label: 'never initialised' },
    { swatch: (x, y) => wordOf(staleHatchAt(x, y) ? p.stale : p.never), label: 'stale (initialised in an earlier boot): hatched over the dimmed state' },
    ...ioEntry,
  ];
  const width = o.keepWidth ? map.width : Math.max(map.width, cellsWidth + axisNeeds, 16 + Math.max(0, ...entries.map((e) => 20 + textWidth(e.label, SCALE))));
  const height = map.height + (entries.length ? 8 + entries.length * (LINE + 4) : 0);
  const pixels = new Uint32Array(width * height).fill(wordOf(p.background));
  const source = new Uint32Array(map.rgba.buffer, map.rgba.byteOffset, map.width * map.height);
  // The cells only: whatever the picture held right of them is the axis's room.
  for (let y = 0; y < map.height; y++) pixels.set(source.subarray(y * map.width, y * map.width + cellsWidth), y * width);
  for (const e of labels) e.lines.forEach((t, k) => drawText(pixels, width, height, cellsWidth + 6, e.y + k * LINE, t, e.word, SCALE));
  entries.forEach((e, k) => {
    const top = map.height + 8 + k * (LINE + 4);
    for (let y = 0; y < LINE - 2; y++) for (let x = 0; x < 12; x++) pixels[(top + y) * width + 4 + x] = e.swatch(x, y);
    drawText(pixels, width, height, 22, top, e.label, text, SCALE);
  });
  return { width, height, rgba: new Uint8Array(pixels.buffer) };
}
