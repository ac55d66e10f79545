/**
 * Runs in Chromium: the map's redraw as the editor's webview does it
 * (colour every cell with the shared rasteriser, put the pixels on an
 * offscreen canvas, scale it onto the visible canvas), timed per redraw.
 */
import { MIX_STRIDE, OWNER_TAG } from '../src/engine/inspect/mapCodes';
import { DEFAULT_PALETTES, RasterCells, rasterise } from '../src/shared/mapRaster';

/** A zoomed-in window of `cells` single frames cut into blocks of orders 0 to 6, like a fragmented section. */
function fragmentedCells(cells: number): RasterCells {
  const mix = new Uint8Array(cells * MIX_STRIDE);
  const tag = new Uint16Array(cells);
  const owners = ['fs', 'slab', 'dma', 'huge', 'net', 'page-cache', 'kvm', 'db'];
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let pfn = 0; pfn < cells;) {
    const order = Math.floor(random() * 7);
    const size = Math.min(2 ** order, cells - pfn);
    const free = random() < 0.3;
    for (let c = pfn; c < pfn + size; c++) {
      mix[c * MIX_STRIDE + (free ? 2 : 3)] = 255;
      tag[c] = free ? 1 + order : OWNER_TAG + Math.floor(random() * owners.length);
    }
    pfn += size;
  }
  return { cells, mix, tag, owners };
}

export function run(columns: number, rows: number, cellPx: number, runs: number): { times: number[]; parts: Record<string, number[]> } {
  const canvas = document.createElement('canvas');
  canvas.width = columns * cellPx;
  canvas.height = rows * cellPx;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d')!;
  const offscreen = document.createElement('canvas');
  offscreen.width = columns;
  offscreen.height = rows;
  const offctx = offscreen.getContext('2d')!;
  const cells = fragmentedCells(columns * rows);
  const times: number[] = [];
  const parts = { rasterise: [] as number[], put: [] as number[], draw: [] as number[] };
  const image = offctx.createImageData(columns, rows); // kept between redraws, as the editor keeps it
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    rasterise(cells, DEFAULT_PALETTES.dark, 10, image.data);
    const t1 = performance.now();
    offctx.putImageData(image, 0, 0);
    const t2 = performance.now();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(offscreen, 0, 0, columns * cellPx, rows * cellPx);
    ctx.getImageData(0, 0, 1, 1); // wait until the drawing is really done
    const t3 = performance.now();
    if (i > 0) { // the first run warms up
      times.push(t3 - t);
      parts.rasterise.push(t1 - t);
      parts.put.push(t2 - t1);
      parts.draw.push(t3 - t2);
    }
  }
  return { times, parts };
}

(globalThis as unknown as { mapDrawBench: typeof run }).mapDrawBench = run;
