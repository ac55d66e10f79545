/** The map command: the page-frame map as a PNG, the same picture the editor draws, without a window. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PmemImage, stateAt, UsageError } from '../../engine';
import { mapCells, MapCells } from '../../engine/inspect/mapCells';
import { fitZoom, layoutAt, MapLayout } from '../../shared/mapGeometry';
import { DEFAULT_PALETTES } from '../../shared/mapRaster';
import { MapBox, paintMap, Picture, withAxisAndLegend } from '../../shared/mapPicture';
import { encodePng } from '../../engine/node/pngFile';
import { freeBlockIndex, largestFreeOrders } from '../../engine/inspect/freeBlocks';
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

export interface RenderedMap extends Picture {
  layout: MapLayout;
  cells: MapCells;
}

/** The box of the whole device drawn from its first frame in `layout`, `width` × `height` pixels. */
function boxOf(layout: MapLayout, width: number, height: number): MapBox {
  return { firstPfn: 0, framesPerCell: layout.framesPerCell, columns: layout.columns, rows: layout.rows, cellPx: layout.cellPx, width, height };
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
  const window = { firstPfn: 0, framesPerCell: layout.framesPerCell, cells: columns * rows };
  const cells = mapCells(img, window);
  const width = Math.max(1, Math.min(boxWidth, Math.round(columns * cellPx)));
  const height = Math.max(1, Math.min(boxHeight, Math.round(rows * cellPx)));
  const largestFree = overlay === 'largest-free' ? largestFreeOrders(freeBlockIndex(img), window) : undefined;
  return { layout, cells, ...paintMap(cells, boxOf(layout, width, height), DEFAULT_PALETTES[theme], g.maxOrder, { largestFree }) };
}

/** The map with its axis and legend (see withAxisAndLegend). */
export function withLegend(img: PmemImage, map: RenderedMap, theme: MapTheme, overlay?: MapOverlay): Picture {
  return withAxisAndLegend(img, map, boxOf(map.layout, map.width, map.height), DEFAULT_PALETTES[theme], { overlay: overlay === 'largest-free', owners: map.cells.owners });
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
                   (red for order 0, through yellow, to blue for the largest
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
