/**
 * Page-frame map benchmarks: prints figures, asserts nothing. Run with `npm run bench`.
 *   (a) mapCells for the whole-device view of a sparse 1 TiB image (1 GiB and 2 MiB sections), fitted to 1600 × 1000
 *   (b) mapCells for a zoomed-in window of 1,048,576 frames at one frame per cell, fully initialised and fragmented
 *   (c) rasterise of 1,048,576 cells
 *   (d) the views as the editor draws them, against their budgets:
 *       whole-device view = (a) + (c), within 100 ms; a change seen in a zoomed-in full viewport = (b) + (c)
 *       (fetching the new cells and colouring them). The redraw itself is timed in Chromium by bench/mapDraw.bench.mjs.
 */
import * as os from 'node:os';
import { allocOp, freeOp, initSectionsOp, MemoryStore, PmemImage } from '../src/engine';
import { mapCells, MapCells } from '../src/engine/inspect/mapCells';
import { MIX_STRIDE, OWNER_TAG } from '../src/engine/inspect/mapCodes';
import { fitZoom, layoutAt } from '../src/shared/mapGeometry';
import { DEFAULT_PALETTES, rasterise } from '../src/shared/mapRaster';
import { fmt, timeRuns } from './stats';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;
const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 11;
const WINDOW = 1 << 20;
const VIEW = { width: 1600, height: 1000 };
const BUDGET = { wholeDevice: 100, redraw: 1000 / 60 };

/** Median of RUNS timed runs after one untimed warm-up run. */
function measure(fn: () => void): { medianMs: number; runsMs: number[] } {
  fn();
  return timeRuns(RUNS, fn);
}

const runs = (r: { runsMs: number[] }) => r.runsMs.map(fmt).join(', ');
const ofBudget = (ms: number, budget: number) => `${(ms / budget).toFixed(2)}× of the ${fmt(budget)} budget`;

/** A sparse 1 TiB image in memory with a few allocations, rebooted once so some sections are stale. */
function sparseTiB(sectionBytes: number): PmemImage {
  const store = new MemoryStore(TiB);
  PmemImage.create(store, { sizeBytes: TiB, sectionBytes });
  let img = PmemImage.open(store, {});
  for (let i = 0; i < 8; i++) allocOp(img, { order: 10, count: 16, owner: `tenant${i % 3}` });
  img.close();
  img = PmemImage.open(store, {});
  allocOp(img, { order: 9, count: 8, owner: 'fs' });
  img.close();
  return PmemImage.open(store, { readOnly: true });
}

/**
 * A 16 GiB image whose frames [WINDOW, 2 × WINDOW) (the NORMAL zone's first 4 GiB) are all
 * initialised and cut into blocks of orders 0 to 6 for eight owners, a quarter of them freed again.
 */
function fragmented(): { img: PmemImage; firstPfn: number } {
  const size = 16 * GiB;
  const store = new MemoryStore(size);
  PmemImage.create(store, { sizeBytes: size });
  const img = PmemImage.open(store, {});
  const g = img.geometry;
  const firstPfn = WINDOW;
  const sections: number[] = [];
  for (let s = firstPfn / g.sectionFrames; s < (firstPfn + WINDOW) / g.sectionFrames; s++) sections.push(s);
  for (let i = 0; i < sections.length; i += 64) initSectionsOp(img, sections.slice(i, i + 64));
  const held: number[] = [];
  let frames = 0;
  for (let i = 0; frames < WINDOW * 0.9; i++) {
    const order = [0, 3, 1, 5, 0, 2, 6, 4, 0, 1][i % 10];
    const r = allocOp(img, { order, count: 64, owner: `owner${i % 8}` });
    for (const b of r.blocks) held.push(b.pfn);
    frames += 64 * 2 ** order;
  }
  const toFree = held.filter((_, i) => i % 4 === 1);
  for (let i = 0; i < toFree.length; i += 256) freeOp(img, toFree.slice(i, i + 256));
  img.close();
  return { img: PmemImage.open(store, { readOnly: true }), firstPfn };
}

/** Share of the window's frames in each channel, and its block count, to show what was measured. */
function describe(m: MapCells): string {
  const share = (k: number) => {
    let sum = 0;
    for (let c = 0; c < m.cells; c++) sum += m.mix[c * MIX_STRIDE + k];
    return ((sum / 255 / m.cells) * 100).toFixed(1);
  };
  let tagged = 0;
  for (let c = 0; c < m.cells; c++) if (m.tag[c] >= OWNER_TAG) tagged++;
  return `${m.blocks.length / 2} blocks, ${share(3)} % allocated (${m.owners.length} owners, ${tagged} frames with an owner), ${share(2)} % free, ${share(4)} % never initialised, detailed=${m.detailed}`;
}

function main(): void {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`page-frame map: medians of ${RUNS} runs (after one warm-up run); ${os.cpus().length} CPUs, load average ${load} (timings are only as quiet as the machine)`);

  // (a) Whole-device view of 1 TiB, fitted to 1600 × 1000.
  const whole: Record<string, number> = {};
  for (const [label, sectionBytes] of [['1 GiB', GiB], ['2 MiB', 2 * MiB]] as const) {
    const img = sparseTiB(sectionBytes);
    const total = img.geometry.totalFrames;
    const l = layoutAt(fitZoom(total, VIEW.width, VIEW.height), total, VIEW.width);
    const window = { firstPfn: 0, framesPerCell: l.framesPerCell, cells: l.columns * l.rows };
    let m = mapCells(img, window);
    const r = measure(() => (m = mapCells(img, window)));
    whole[label] = r.medianMs;
    console.log(`(a) mapCells, whole 1 TiB device, ${label} sections (${img.geometry.sectionCount} sections), ${l.columns} × ${l.rows} cells of ${l.framesPerCell} frames: median ${fmt(r.medianMs)} (runs ${runs(r)}); detailed=${m.detailed}`);
  }

  // (b) Zoomed in: 1,048,576 frames at one frame per cell.
  const t = performance.now();
  const { img, firstPfn } = fragmented();
  const setupMs = performance.now() - t;
  const window = { firstPfn, framesPerCell: 1, cells: WINDOW };
  let cells = mapCells(img, window);
  const zoomed = measure(() => (cells = mapCells(img, window)));
  console.log(`(b) mapCells, ${WINDOW} frames from pfn ${firstPfn} at 1 frame per cell: median ${fmt(zoomed.medianMs)} (runs ${runs(zoomed)})`);
  console.log(`    window: ${describe(cells)}; image built in ${fmt(setupMs)}`);

  // (c) Rasterise 1,048,576 cells (those of (b): one block, order or owner per cell).
  const out = new Uint8ClampedArray(WINDOW * 4);
  const maxOrder = img.geometry.maxOrder;
  const raster = measure(() => rasterise(cells, DEFAULT_PALETTES.dark, maxOrder, out));
  console.log(`(c) rasterise ${WINDOW} cells: median ${fmt(raster.medianMs)} (runs ${runs(raster)})`);

  // (d) Against the budgets.
  for (const [label, ms] of Object.entries(whole)) {
    const sum = ms + raster.medianMs;
    console.log(`(d) whole-device view, ${label} sections = (a) + (c): ${fmt(sum)} = ${ofBudget(sum, BUDGET.wholeDevice)}`);
  }
  const redraw = zoomed.medianMs + raster.medianMs;
  console.log(`(d) a change in a zoomed-in full viewport, new cells + colouring = (b) + (c): ${fmt(redraw)} = ${ofBudget(redraw, BUDGET.redraw)} (one 60 Hz frame; the redraw alone is timed in Chromium below)`);
}

main();
