/**
 * Updates in proportion to the change: prints figures, asserts nothing. Run with `npm run bench`.
 *   (a) one allocation in a zoomed-in window of 1,048,576 frames (one frame per cell: the whole of a fragmented 4 GiB image):
 *       the host's cells for the changed runs against the whole window, and the webview's patch and colouring,
 *       from the engine's answer (the edit's change) to the pixels ready to draw, against one 60 Hz frame
 *   (b) the map's state after one allocation on a 1 TiB image whose history ring is full: the whole
 *       state as before (info counted over the section table, every step decoded and sent) against the
 *       kept totals and the steps added; time and message size
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, freeOp, info, initSectionsOp, MemoryStore, PmemImage, sectionsNeedingInit, stepRange } from '../src/engine';
import { copyImage } from '../src/engine/image/copy';
import { ChangeTracker } from '../src/engine/image/changeTracker';
import { HistoryFeed } from '../src/engine/inspect/historyFeed';
import { mapCells } from '../src/engine/inspect/mapCells';
import { FileStore } from '../src/engine/node/fileStore';
import { ImageSession } from '../src/engine/node/session';
import { changedCellRuns, patchCells, subWindow } from '../src/shared/mapPatch';
import { DEFAULT_PALETTES, rasterise } from '../src/shared/mapRaster';
import { fmt, median } from './stats';

const GiB = 2 ** 30;
const TiB = 2 ** 40;
const WINDOW = 1 << 20;
const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 11;
const FRAME_MS = 1000 / 60;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-updates-bench-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

/** An image made by `fill` on the engine in memory, copied to a sparse file, then opened as an editor's session, booted. */
function sessionOf(name: string, sizeBytes: number, fill: (img: PmemImage) => void): ImageSession {
  const file = path.join(dir, name);
  const memory = new MemoryStore(sizeBytes);
  PmemImage.create(memory, { sizeBytes });
  const img = PmemImage.open(memory, {});
  fill(img);
  img.close();
  const store = FileStore.create(file, sizeBytes, { overwrite: false });
  copyImage(PmemImage.open(memory, { readOnly: true }), store);
  store.close();
  const s = ImageSession.open(file);
  s.bootIfNeeded();
  return s;
}

/** Every frame of a 4 GiB image (1,048,576) initialised and cut into blocks of orders 0 to 6 for eight owners, a quarter freed again. */
function fragment(img: PmemImage): void {
  const sections = sectionsNeedingInit(img);
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
}

function windowBench(): void {
  const t = performance.now();
  const s = sessionOf('window.pmem', 4 * GiB, fragment);
  console.log(`(a) 4 GiB image (${s.image.geometry.totalFrames} frames) fragmented, built in ${fmt(performance.now() - t)}`);
  const window = { firstPfn: 0, framesPerCell: 1, cells: WINDOW };
  const palette = DEFAULT_PALETTES.dark;
  const maxOrder = s.image.geometry.maxOrder;
  const pixels = new Uint8ClampedArray(WINDOW * 4);
  let shown = mapCells(s.image, window);
  rasterise(shown, palette, maxOrder, pixels);
  const whole: number[] = [];
  const wholeRaster: number[] = [];
  const edit: number[] = [];
  const host: number[] = [];
  const patch: number[] = [];
  const colour: number[] = [];
  let fetched = 0;
  let runCount = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    let t0 = performance.now();
    const done = s.perform('alloc', (img) => allocOp(img, { order: i % 3, owner: `owner${i % 8}` }));
    const editMs = performance.now() - t0;
    const change = { all: false, frames: done.edit.changed!.change.frames, sections: done.edit.changed!.change.sections };
    // The host's part: cells for the runs the webview asks for.
    t0 = performance.now();
    const runs = changedCellRuns(shown, change, s.image.geometry.sectionFrames)!;
    const patches = runs.map((run) => mapCells(s.image, subWindow(shown, run)));
    const hostMs = performance.now() - t0;
    // The webview's part: the patch written into the window, only the changed cells coloured again.
    t0 = performance.now();
    const changed = patches.flatMap((p) => patchCells(shown, p)!);
    const patchMs = performance.now() - t0;
    t0 = performance.now();
    rasterise(shown, palette, maxOrder, pixels, changed);
    const colourMs = performance.now() - t0;
    // As before: the whole window computed and coloured again.
    t0 = performance.now();
    const fresh = mapCells(s.image, window);
    const wholeMs = performance.now() - t0;
    t0 = performance.now();
    rasterise(fresh, palette, maxOrder, pixels);
    const wholeRasterMs = performance.now() - t0;
    shown = fresh;
    if (i === 0) continue; // warm-up
    edit.push(editMs);
    host.push(hostMs);
    patch.push(patchMs);
    colour.push(colourMs);
    whole.push(wholeMs);
    wholeRaster.push(wholeRasterMs);
    fetched += patches.reduce((n, p) => n + p.cells, 0);
    runCount += runs.length;
  }
  const total = median(host) + median(patch) + median(colour);
  console.log(`(a) one allocation: the edit, its change found from the bytes it wrote included, median ${fmt(median(edit))}`);
  console.log(`(a) host, cells of the changed runs: median ${fmt(median(host))} (${(runCount / RUNS).toFixed(1)} run(s), ${Math.round(fetched / RUNS)} cells per allocation); whole window: median ${fmt(median(whole))} (${WINDOW} cells) = ${(median(whole) / median(host)).toFixed(0)}× more`);
  console.log(`(a) webview, patch + colouring the changed cells: median ${fmt(median(patch))} + ${fmt(median(colour))}; colouring the whole window: median ${fmt(median(wholeRaster))}`);
  console.log(`(a) engine's answer to pixels ready, one allocation: ${fmt(total)} = ${(total / FRAME_MS).toFixed(2)}× of one 60 Hz frame (was ${fmt(median(whole) + median(wholeRaster))}); the redraw itself is timed in Chromium by bench/mapDraw.bench.mjs`);
  s.close();
}

function stateBench(): void {
  const steps = quick ? 20_000 : 140_000;
  const t = performance.now();
  const s = sessionOf('ring.pmem', TiB, (img) => {
    const held: number[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < steps; i++) {
      if (held.length > 400 || (held.length > 0 && random() < 0.45)) freeOp(img, held.splice(Math.floor(random() * held.length), 1));
      else held.push(allocOp(img, { order: random() < 0.7 ? 0 : Math.floor(random() * 4), owner: 'bench' }).blocks[0].pfn);
    }
  });
  const h = s.image.history.readHeader(s.image.store);
  console.log(`(b) 1 TiB image (${s.image.geometry.sectionCount} sections), ${steps} operations: steps ${h.firstSeq} to ${h.nextSeq - 1} kept${h.firstSeq > 1 ? ' (the ring is full)' : ''}; built in ${fmt(performance.now() - t)}`);
  const tracker = new ChangeTracker();
  const feed = new HistoryFeed();
  tracker.totals(s.image, s.version);
  feed.update(s.image);
  const before: number[] = [];
  const after: number[] = [];
  let beforeBytes = 0;
  let afterBytes = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    const done = s.perform('alloc', (img) => allocOp(img, { order: 0, owner: 'bench' }));
    // As before: counted over the section table, every step decoded, the whole list sent.
    let t0 = performance.now();
    const records = s.image.historyRecords();
    const range = stepRange(records);
    const old = { info: info(s.image), steps: records.filter((r) => r.seq >= range.first).map((r) => ({ seq: r.seq, text: r.summary.text })) };
    const oldJson = JSON.stringify(old);
    const beforeMs = performance.now() - t0;
    // Now: the totals kept edit by edit, the steps added.
    t0 = performance.now();
    tracker.edited(done.edit.changed, 1);
    const now = { info: info(s.image, tracker.totals(s.image, s.version)), history: feed.update(s.image) };
    const nowJson = JSON.stringify(now);
    const afterMs = performance.now() - t0;
    if (i === 0) continue;
    before.push(beforeMs);
    after.push(afterMs);
    beforeBytes = oldJson.length;
    afterBytes = nowJson.length;
  }
  console.log(`(b) the map's state after one allocation, as before: median ${fmt(median(before))}, ${(beforeBytes / 1024).toFixed(0)} KiB (info over the section table, every step decoded and sent)`);
  console.log(`(b) now: median ${fmt(median(after))}, ${(afterBytes / 1024).toFixed(1)} KiB (kept totals, the one step added)`);
  s.close();
}

windowBench();
stateBench();
