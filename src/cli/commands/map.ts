/** The map command: the page-frame map as a PNG, the same picture the editor draws, without a window. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { info, PmemImage, stateAt, UsageError } from '../../engine';
import { mapCells, MapCells } from '../../engine/inspect/mapCells';
import { fitZoom, layoutAt, MapLayout } from '../../shared/mapGeometry';
import { DEFAULT_PALETTES, NO_FREE_DIMMING, orderRampColours, ownerColour, rasterise, rasteriseLargestFree, Rgb, staleHatchAt } from '../../shared/mapRaster';
import { freeBlockIndex, largestFreeOrders } from '../../engine/inspect/freeBlocks';
import { contrastRatio } from '../../shared/mapContrast';
import { OWNER_SLOTS, OwnerSlots, ownerPalette } from '../../shared/ownerPalette';
import { drawText, TEXT_HEIGHT, textWidth } from '../pixelText';
import { MIX_STRIDE } from '../../engine/inspect/mapCodes';
import { filePath, flag, int, oneFile, parse, str } from '../args';
import { Command } from '../command';
import { openForReading } from '../io';
import { writeFileAtomically } from '../../engine/node/atomicFile';
import { refuseNonRegular } from '../../engine/node/filePath';
import { say } from '../output';
import { renderNamespaceMap } from './linuxMap';
import { pfnNamespaceOf } from './linuxPages';

export type MapTheme = keyof typeof DEFAULT_PALETTES;
/** What colours the cells besides their state: the largest free order in each. */
export const MAP_OVERLAYS = ['largest-free'] as const;
export type MapOverlay = (typeof MAP_OVERLAYS)[number];

export const DEFAULT_MAP_WIDTH = 1024;
export const DEFAULT_MAP_HEIGHT = 768;
/** Largest box side accepted, and the most pixels a box may hold (mapCells draws at most 2^24 cells). */
export const MAX_MAP_SIDE = 16384;
export const MAX_MAP_PIXELS = 1 << 24;

export interface RenderedMap {
  layout: MapLayout;
  cells: MapCells;
  /** Size of the picture in pixels: columns × cellPx by rows × cellPx, rounded, within the requested box. */
  width: number;
  height: number;
  /** width × height RGBA pixels, row by row. */
  rgba: Uint8Array;
}

/** For each of `pixels` pixels along an axis, the cell under its centre (cells are `cellPx` wide, possibly fractional). */
function cellUnderPixel(pixels: number, cellPx: number, cells: number): Int32Array {
  const index = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) index[p] = Math.min(cells - 1, Math.floor((p + 0.5) / cellPx));
  return index;
}

/**
 * Draws the whole device at the zoom that fits a box of `boxWidth` × `boxHeight`
 * pixels, as the editor does: one cell per `framesPerCell` frames, `cellPx`
 * pixels square (not always a whole number: cells are scaled nearest-neighbour,
 * as the editor's canvas scales them without smoothing).
 */
export function renderMap(img: PmemImage, boxWidth: number, boxHeight: number, theme: MapTheme, overlay?: MapOverlay): RenderedMap {
  const g = img.geometry;
  const layout = layoutAt(fitZoom(g.totalFrames, boxWidth, boxHeight), g.totalFrames, boxWidth);
  const { cellPx, columns, rows } = layout;
  const count = columns * rows;
  const window = { firstPfn: 0, framesPerCell: layout.framesPerCell, cells: count };
  const cells = mapCells(img, window);
  const colours = new Uint8ClampedArray(count * 4);
  if (overlay === 'largest-free') rasteriseLargestFree(cells, largestFreeOrders(freeBlockIndex(img), window), DEFAULT_PALETTES[theme], g.maxOrder, colours);
  else rasterise(cells, DEFAULT_PALETTES[theme], g.maxOrder, colours);

  const width = Math.max(1, Math.min(boxWidth, Math.round(columns * cellPx)));
  const height = Math.max(1, Math.min(boxHeight, Math.round(rows * cellPx)));
  const pixels = new Uint32Array(width * height);
  const cellColour = new Uint32Array(colours.buffer);
  const columnAt = cellUnderPixel(width, cellPx, columns);
  const rowAt = cellUnderPixel(height, cellPx, rows);
  for (let y = 0; y < height; y++) {
    const line = y * width;
    if (y > 0 && rowAt[y] === rowAt[y - 1]) {
      pixels.copyWithin(line, line - width, line); // the same row of cells as the line above
      continue;
    }
    const first = rowAt[y] * columns;
    for (let x = 0; x < width; x++) pixels[line + x] = cellColour[first + columnAt[x]];
  }
  // The overlay is of the free lists alone: staleness would hide its colours.
  if (!overlay) hatchStale(cells, theme, { columns, width, height, columnAt, rowAt, pixels });
  return { layout, cells, width, height, rgba: new Uint8Array(pixels.buffer) };
}

/** Stale sections, as the editor draws them: a hatch in the stale colour over the (dimmed) state they hold. */
function hatchStale(cells: MapCells, theme: MapTheme, p: { columns: number; width: number; height: number; columnAt: Int32Array; rowAt: Int32Array; pixels: Uint32Array }): void {
  const [r, g, b] = DEFAULT_PALETTES[theme].stale;
  const word = ((255 << 24) | (Math.round(b) << 16) | (Math.round(g) << 8) | Math.round(r)) >>> 0;
  for (let y = 0; y < p.height; y++) {
    const first = p.rowAt[y] * p.columns;
    for (let x = 0; x < p.width; x++) {
      if (staleHatchAt(x, y) && cells.mix[(first + p.columnAt[x]) * MIX_STRIDE + 5]) p.pixels[y * p.width + x] = word;
    }
  }
}

const wordOf = (c: Rgb) => ((255 << 24) | (Math.round(c[2]) << 16) | (Math.round(c[1]) << 8) | Math.round(c[0])) >>> 0;
const SCALE = 2;
const LINE = (TEXT_HEIGHT + 2) * SCALE;

/**
 * The map with an axis on its right (pfns and physical addresses at round
 * rows, every node and zone named where it starts) and a legend under it
 * (every state, the owners drawn, the stale hatch), as the editor shows them.
 */
export function withLegend(img: PmemImage, map: RenderedMap, theme: MapTheme, overlay?: MapOverlay): Pick<RenderedMap, 'width' | 'height' | 'rgba'> {
  const p = DEFAULT_PALETTES[theme];
  const l = map.layout;
  const text = wordOf(contrastRatio([255, 255, 255], p.background) > contrastRatio([0, 0, 0], p.background) ? [230, 230, 230] : [40, 40, 40]);
  const muted = wordOf(p.never);
  const i = info(img);
  const total = img.geometry.totalFrames;
  // Axis entries (y, lines, word), labels first; ticks give way to them.
  const labels: Array<{ y: number; lines: string[]; word: number }> = [];
  for (const n of i.nodes) {
    for (const z of n.zones) {
      if (!z.frames) continue;
      let y = Math.floor(Math.floor(z.firstPfn / l.framesPerRow) * l.cellPx);
      while (labels.some((e) => Math.abs(e.y - y) < LINE)) y += LINE;
      labels.push({ y, lines: [`node ${n.id} · ${z.name}`], word: text });
    }
  }
  const every = 2 ** Math.max(0, Math.ceil(Math.log2((3 * LINE) / l.cellPx)));
  for (let r = 0; r * l.framesPerRow < total; r += every) {
    const y = Math.floor(r * l.cellPx);
    if (y + 2 * LINE > map.height || labels.some((e) => y < e.y + e.lines.length * LINE && y + 2 * LINE > e.y)) continue;
    labels.push({ y, lines: [`pfn ${r * l.framesPerRow}`, `0x${(r * l.framesPerRow * 4096).toString(16)}`], word: muted });
  }
  const axisWidth = 8 + Math.max(0, ...labels.flatMap((e) => e.lines.map((t) => textWidth(t, SCALE))));
  // Legend entries: a swatch (one colour, stripes, or a hatch) and its words.
  const slots = new OwnerSlots(OWNER_SLOTS).slotsOf(map.cells.owners);
  const owners = [...new Set(map.cells.owners.filter(Boolean))].sort();
  const other = owners.filter((o) => (slots.get(o) ?? -1) < 0);
  const op = ownerPalette(p);
  type Entry = { swatch: (x: number, y: number) => number; label: string };
  const solid = (c: Rgb) => () => wordOf(c);
  const maxOrder = img.geometry.maxOrder;
  const ramp = orderRampColours(p, maxOrder);
  const faded: Rgb = [0, 1, 2].map((k) => p.allocated[k] + (p.background[k] - p.allocated[k]) * NO_FREE_DIMMING) as unknown as Rgb;
  const entries: Entry[] = overlay === 'largest-free' ? [
    { swatch: solid(p.metadata), label: 'metadata (superblock, tables, journal, history)' },
    ...(img.geometry.memmap === 'device' ? [{ swatch: solid(p.memmap), label: 'memmap (descriptors on the device)' }] : []),
    { swatch: (x) => wordOf(ramp[Math.min(maxOrder, Math.floor((x / 12) * (maxOrder + 1)))]), label: `largest free block in the cell: order 0 (red) → order ${maxOrder} (green)` },
    { swatch: solid(faded), label: 'no free block in the cell (allocated), faded' },
    { swatch: solid(p.never), label: 'never initialised' },
  ] : [
    { swatch: solid(p.metadata), label: 'metadata (superblock, tables, journal, history)' },
    ...(img.geometry.memmap === 'device' ? [{ swatch: solid(p.memmap), label: 'memmap (descriptors on the device)' }] : []),
    { swatch: (x) => wordOf(x < 4 ? p.freeSmall : x < 8 ? [(p.freeSmall[0] + p.freeLarge[0]) / 2, (p.freeSmall[1] + p.freeLarge[1]) / 2, (p.freeSmall[2] + p.freeLarge[2]) / 2] : p.freeLarge), label: `free blocks, shaded by order: faintest order 0 → strongest order ${img.geometry.maxOrder}` },
    { swatch: solid(p.allocated), label: 'allocated' },
    ...owners.filter((o) => (slots.get(o) ?? -1) >= 0).map((o) => ({ swatch: solid(ownerColour(o, p, slots)!), label: `owner ${o}` })),
    ...(other.length ? [{ swatch: (x: number) => wordOf(x & 1 ? op.otherStripe : op.other), label: `other owners: ${other.join(', ')}` }] : []),
    { swatch: solid(p.never), label: 'never initialised' },
    { swatch: (x, y) => wordOf(staleHatchAt(x, y) ? p.stale : p.never), label: 'stale (initialised in an earlier boot): hatched over the dimmed state' },
  ];
  const width = Math.max(map.width + axisWidth, 16 + Math.max(...entries.map((e) => 20 + textWidth(e.label, SCALE))));
  const height = map.height + 8 + entries.length * (LINE + 4);
  const pixels = new Uint32Array(width * height).fill(wordOf(p.background));
  const source = new Uint32Array(map.rgba.buffer, map.rgba.byteOffset, map.width * map.height);
  for (let y = 0; y < map.height; y++) pixels.set(source.subarray(y * map.width, (y + 1) * map.width), y * width);
  for (const e of labels) e.lines.forEach((t, k) => drawText(pixels, width, height, map.width + 6, e.y + k * LINE, t, e.word, SCALE));
  entries.forEach((e, k) => {
    const top = map.height + 8 + k * (LINE + 4);
    for (let y = 0; y < LINE - 2; y++) for (let x = 0; x < 12; x++) pixels[(top + y) * width + 4 + x] = e.swatch(x, y);
    drawText(pixels, width, height, 22, top, e.label, text, SCALE);
  });
  return { width, height, rgba: new Uint8Array(pixels.buffer) };
}

/** An RGB PNG of a rendered map (every pixel is opaque, so no alpha channel). */
export function encodePng(map: Pick<RenderedMap, 'width' | 'height' | 'rgba'>): Buffer {
  const png = new PNG();
  png.width = map.width;
  png.height = map.height;
  png.data = Buffer.from(map.rgba.buffer, map.rgba.byteOffset, map.rgba.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}

/** Refuses an output path that cannot be written before any work is done; an existing file only with --force; never the image itself. */
function checkOutput(out: string, image: string, force: boolean): void {
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir)) throw new UsageError(`--out: directory ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--out: ${dir} is not a directory, so ${out} cannot be created there`);
  try {
    refuseNonRegular(out, 'a PNG file'); // a directory, FIFO, device or link loop is never replaced
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`--out: ${e.message}`) : e;
  }
  if (!fs.existsSync(out)) return;
  const o = fs.statSync(out);
  const i = fs.statSync(image);
  if (o.dev === i.dev && o.ino === i.ino) throw new UsageError(`--out: ${out} is the image itself; give another file`);
  if (!force) throw new UsageError(`--out: ${out} already exists; add --force to replace it`);
}

/** `out` is replaced whole or not at all; a failure says why in the user's words. */
function writeAtomically(out: string, data: Uint8Array): void {
  try {
    writeFileAtomically(out, data);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = (err.code && WRITE_ERRORS[err.code]) ?? err.message;
    throw new UsageError(`--out: cannot write ${out}: ${why}`);
  }
}

const WRITE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded', ENOENT: 'files cannot be created in that directory', ENAMETOOLONG: 'file name too long', EISDIR: 'is a directory',
};

function dimension(value: string | undefined, name: string, fallback: number): number {
  return int(value, name, 1, MAX_MAP_SIDE) ?? fallback;
}

export const mapCommand: Command = {
  name: 'map',
  summary: 'draw the page-frame map of the whole device as a PNG',
  help: `usage: pmem map FILE --out PNG [--force] [--width W] [--height H] [--at STEP] [--theme dark|light] [--overlay largest-free]

Draws the page-frame map as the editor shows it: metadata, memmap, free blocks
(shaded by order), allocated blocks (coloured by owner), never-initialised and
stale sections. The whole device is drawn at the largest zoom that fits W × H;
the PNG is as large as the map (at most W × H) with its axis and legend. The
image is opened read-only.
FILE may also be a Linux fsdax or devdax namespace: each cell is then a page
(or group of pages) coloured by what its struct page says (never written,
ZONE_DEVICE, reserve, compound head or tail, ...).

  --out PNG        the file to write; an existing file is refused
  --force          replace an existing --out file (atomically: whole or not at all)
  --width W        width of the box in pixels (default ${DEFAULT_MAP_WIDTH})
  --height H       height of the box in pixels (default ${DEFAULT_MAP_HEIGHT}); W × H is at most ${MAX_MAP_PIXELS}
  --at STEP        draw the image as it was after a history step (see "pmem history")
  --theme T        dark (default) or light, matching VS Code's default themes
  --overlay largest-free
                   colour each cell by the largest free block with a frame in it
                   (red for order 0, through yellow, to green for the largest
                   order), from the free lists: fragmentation at any zoom
  --no-legend      the map alone: no axis of pfns and addresses on its right (with
                   every node and zone named) and no legend under it`,
  run(argv) {
    const p = parse(argv, { out: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' }, at: { type: 'string' }, theme: { type: 'string' }, force: { type: 'boolean' }, 'no-legend': { type: 'boolean' }, overlay: { type: 'string' } }, 'map');
    const file = oneFile(p, 'map');
    const out = str(p, 'out');
    if (out === undefined || out === '') throw new UsageError('--out PNG is required (the file to write)');
    filePath(out, '--out');
    const width = dimension(str(p, 'width'), 'width', DEFAULT_MAP_WIDTH);
    const height = dimension(str(p, 'height'), 'height', DEFAULT_MAP_HEIGHT);
    if (width * height > MAX_MAP_PIXELS) throw new UsageError(`--width × --height must be at most ${MAX_MAP_PIXELS} pixels (4096 × 4096), not ${width} × ${height}`);
    const theme = str(p, 'theme') ?? 'dark';
    if (!Object.hasOwn(DEFAULT_PALETTES, theme)) throw new UsageError(`--theme must be dark or light, not "${theme}"`);
    const at = int(str(p, 'at'), 'at', 0, Number.MAX_SAFE_INTEGER);
    const overlay = str(p, 'overlay');
    if (overlay !== undefined && !(MAP_OVERLAYS as readonly string[]).includes(overlay)) throw new UsageError(`--overlay must be ${MAP_OVERLAYS.join(' or ')}, not "${overlay}"`);

    const namespace = pfnNamespaceOf(file);
    if (namespace) {
      if (at !== undefined) throw new UsageError(`--at: ${file} is a Linux namespace, which keeps no history`);
      if (overlay !== undefined) throw new UsageError(`--overlay: ${file} is a Linux namespace, whose free lists live in the kernel's memory, not in the file`);
      checkOutput(out, file, flag(p, 'force'));
      const map = renderNamespaceMap(file, namespace, width, height, theme as MapTheme);
      writeAtomically(out, encodePng({ width: map.width, height: map.height, rgba: map.rgba }));
      const l = map.layout;
      const scale = l.framesPerCell > 1 ? `${l.framesPerCell} pages per cell` : `${Number(l.cellPx.toFixed(2))} pixels per page`;
      say(`wrote ${out}: ${map.width} × ${map.height} pixels, ${scale}, ${l.columns} × ${l.rows} cells; ${namespace.description}, ${map.describedPages} pages with a struct page in the file (the most telling class of a cell is drawn)`);
      return 0;
    }
    const img = openForReading(file);
    try {
      checkOutput(out, file, flag(p, 'force'));
      const shown = at === undefined ? img : stateAt(img, at);
      const map = renderMap(shown, width, height, theme as MapTheme, overlay as MapOverlay | undefined);
      writeAtomically(out, encodePng(flag(p, 'no-legend') ? map : withLegend(shown, map, theme as MapTheme, overlay as MapOverlay | undefined)));
      const l = map.layout;
      const px = Number(l.cellPx.toFixed(2));
      const scale = l.framesPerCell > 1 ? `${l.framesPerCell} frames per cell of ${px} pixel${px === 1 ? '' : 's'}` : `${px} pixel${px === 1 ? '' : 's'} per frame`;
      say(`wrote ${out}: ${map.width} × ${map.height} pixels, ${scale}, ${l.columns} × ${l.rows} cells${at === undefined ? '' : `, after step ${at}`}${overlay ? ', coloured by the largest free order in each cell' : ''}`);
    } finally {
      img.store.close();
    }
    return 0;
  },
};
