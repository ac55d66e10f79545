import { strict as assert } from 'node:assert';
import { allocOp, freeOp, info, MemoryStore, PAGE_SIZE, PmemImage, Store } from '../../src/engine';
import { mapCells, mapCellsAsync, mapCellsSteps } from '../../src/engine/inspect/mapCells';
import { MIX_STRIDE, OWNER_TAG } from '../../src/engine/inspect/mapCodes';
import { fitZoom, layoutAt, cellOf, pfnAt } from '../../src/shared/mapGeometry';
import { DEFAULT_PALETTES, ownerColour, rasterise } from '../../src/shared/mapRaster';
import { OWNER_SLOTS, OwnerSlots } from '../../src/shared/ownerPalette';
import { GiB, MiB, newImage } from './helpers';

/** Frames per channel over the whole window, from the 0..255 shares. */
function totals(cells: ReturnType<typeof mapCells>): number[] {
  const t = new Array(MIX_STRIDE).fill(0);
  for (let c = 0; c < cells.cells; c++) for (let k = 0; k < MIX_STRIDE; k++) t[k] += (cells.mix[c * MIX_STRIDE + k] / 255) * cells.framesPerCell;
  return t.map(Math.round);
}

describe('page-frame map', () => {
  it('gives each frame its state when zoomed in, with order and owner tags', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    const a = allocOp(img, { order: 3, owner: 'alpha' }).blocks[0].pfn;
    const m = mapCells(img, { firstPfn: 0, framesPerCell: 1, cells: img.geometry.totalFrames });
    assert.equal(m.detailed, true);
    const channel = (pfn: number) => Array.from(m.mix.subarray(pfn * MIX_STRIDE, pfn * MIX_STRIDE + 5)).indexOf(255);
    assert.equal(channel(0), 0, 'the superblock is metadata');
    assert.equal(channel(a), 3, 'allocated');
    assert.equal(m.owners[m.tag[a] - OWNER_TAG], 'alpha');
    assert.equal(m.tag[a + 7], m.tag[a], 'every frame of the block carries its owner');
    const freePfn = m.blocks.find((_, i) => i % 2 === 0 && m.tag[m.blocks[i]] > 0 && m.tag[m.blocks[i]] < OWNER_TAG)!;
    assert.equal(channel(freePfn), 2);
    assert.equal(channel(img.layout.memmap.startPfn), 1, 'memmap');
    const lastSection = img.geometry.sectionCount - 1;
    assert.equal(channel(lastSection * img.geometry.sectionFrames), 4, 'a section never initialised');
    const t = totals(m);
    const i = info(img);
    assert.equal(t[2], i.frames.free);
    assert.equal(t[3], i.frames.allocated);
  });

  it('aggregates from section summaries alone, agreeing with the detailed totals', () => {
    const { img } = newImage({ sizeBytes: 64 * MiB });
    const blocks = allocOp(img, { order: 0, count: 700, owner: 'x' }).blocks;
    freeOp(img, blocks.filter((_, i) => i % 3 === 0).map((b) => b.pfn));
    const total = img.geometry.totalFrames;
    const detailed = totals(mapCells(img, { firstPfn: 0, framesPerCell: 8, cells: total / 8 }));
    const summary = mapCells(img, { firstPfn: 0, framesPerCell: 256, cells: total / 256 });
    assert.equal(summary.detailed, false);
    const agg = totals(summary);
    for (let k = 0; k < MIX_STRIDE; k++) assert.ok(Math.abs(agg[k] - detailed[k]) <= total / 256, `channel ${k}: ${agg[k]} vs ${detailed[k]}`);
    assert.ok(Math.abs(detailed[3] - info(img).frames.allocated) <= 4);
  });

  it('gives the same cells in slices as at once, pausing within a window of many blocks, and stops when told', async () => {
    const { img } = newImage({ sizeBytes: 64 * MiB });
    allocOp(img, { order: 0, count: 5000, owner: 'many' });
    for (const window of [
      { firstPfn: 0, framesPerCell: 1, cells: img.geometry.totalFrames },
      { firstPfn: 100, framesPerCell: 8, cells: 1000 },
      { firstPfn: 0, framesPerCell: 4096, cells: img.geometry.totalFrames / 4096 },
    ]) {
      const whole = mapCells(img, window);
      let pauses = 0;
      const steps = mapCellsSteps(img, window);
      let r = steps.next();
      for (; !r.done; r = steps.next()) pauses++;
      assert.deepEqual(r.value, whole, `window ${JSON.stringify(window)}`);
      if (window.framesPerCell === 1) assert.ok(pauses >= 4, `a walk of 5,000 single blocks pauses at least every 1,024 (${pauses} pauses)`);
      assert.deepEqual(await mapCellsAsync(img, window, { sliceMs: 0 }), whole);
    }
    let asked = 0;
    const stopped = await mapCellsAsync(img, { firstPfn: 0, framesPerCell: 1, cells: img.geometry.totalFrames }, { sliceMs: 0, stopped: () => ++asked > 2 });
    assert.equal(stopped, undefined, 'stopped at the third pause');
    assert.equal(asked, 3);
  });

  it('marks stale sections after a reboot', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB, historyBytes: 64 * 1024 }); // a small history: section 0 mostly data
    allocOp(img, { order: 0 });
    img.close();
    const again = PmemImage.open(store, {});
    const m = mapCells(again, { firstPfn: 0, framesPerCell: 512, cells: again.geometry.sectionCount });
    const staleOf = (s: number) => m.mix[s * MIX_STRIDE + 5];
    assert.ok(staleOf(0) > 200, `section 0 is stale (${staleOf(0)})`);
    assert.equal(staleOf(1), 0, 'section 1 was never initialised, not stale');
  });

  it('draws the whole of a 1 TiB device without reading a byte of the memmap', () => {
    const base = new MemoryStore(2 ** 40);
    PmemImage.create(base, { sizeBytes: 2 ** 40, sectionBytes: GiB });
    const writable = PmemImage.open(base, {});
    allocOp(writable, { order: 10, count: 3, owner: 'big' });
    writable.close();
    const img = PmemImage.open(base, { readOnly: true });
    const memmap = img.layout.memmap;
    const inner: Store = img.store;
    const a = memmap.startPfn * PAGE_SIZE;
    img.store = new Proxy(inner, {
      get(target, key) {
        if (key !== 'read') return Reflect.get(target, key);
        return (offset: number, length: number) => {
          if (offset < a + memmap.frames * PAGE_SIZE && offset + length > a) throw new Error(`memmap read at ${offset}`);
          return target.read(offset, length);
        };
      },
    });
    const l = layoutAt(fitZoom(img.geometry.totalFrames, 1024, 768), img.geometry.totalFrames, 1024);
    const m = mapCells(img, { firstPfn: 0, framesPerCell: l.framesPerCell, cells: l.columns * l.rows });
    assert.equal(m.detailed, false);
    assert.equal(totals(m)[1], memmap.frames, 'the memmap region is drawn from the layout');
  });

  it('lays rows out in powers of two so sections are rectangles, and fits the device', () => {
    for (const [total, w, h] of [[2 ** 28, 1000, 700], [65536, 1062, 609], [4096, 300, 900], [2 ** 22, 1920, 1080]]) {
      const z = fitZoom(total, w, h);
      const l = layoutAt(z, total, w);
      assert.ok(l.rows * l.cellPx <= h + 1e-6 && l.columns * l.cellPx <= w + 1e-6, `${total} frames fit ${w}x${h}: ${JSON.stringify(l)}`);
      assert.ok(Math.max(l.rows * l.cellPx / h, l.columns * l.cellPx / w) > 0.99, `the fit fills the box in one direction: ${JSON.stringify(l)}`);
      assert.equal(Math.log2(l.framesPerRow) % 1, 0);
      const closer = layoutAt(z + 0.5, total, w);
      assert.ok(closer.rows * closer.cellPx > h || closer.columns * closer.cellPx > w || closer.cellPx === 32, 'any closer no longer fits');
    }
    // 65536 frames in 1062x609: a 256 x 256 square of 2.38-pixel cells, not a 512 x 128 strip.
    assert.equal(layoutAt(fitZoom(65536, 1062, 609), 65536, 1062).columns, 256);
    const zoomed = layoutAt(3, 2 ** 28, 1000);
    assert.deepEqual(cellOf(zoomed, pfnAt(zoomed, 5, 9)), { column: 5, row: 9 });
    assert.equal(zoomed.cellPx, 8);
  });

  it('rasterises one pixel per cell with stable owner colours', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 2, owner: 'alpha' });
    const m = mapCells(img, { firstPfn: 0, framesPerCell: 1, cells: img.geometry.totalFrames });
    const out = new Uint8ClampedArray(m.cells * 4);
    rasterise(m, DEFAULT_PALETTES.dark, img.geometry.maxOrder, out);
    const a = m.tag.findIndex((t) => t >= OWNER_TAG);
    assert.deepEqual([...out.subarray(a * 4, a * 4 + 3)], [...ownerColour('alpha', DEFAULT_PALETTES.dark)!]);
    assert.deepEqual([...out.subarray(0, 3)], [...DEFAULT_PALETTES.dark.metadata]);
    const slots = new OwnerSlots(OWNER_SLOTS).slotsOf(['alpha', 'beta']);
    assert.deepEqual(ownerColour('alpha', DEFAULT_PALETTES.dark, slots), ownerColour('alpha', { ...DEFAULT_PALETTES.dark }, slots));
    assert.notDeepEqual(ownerColour('alpha', DEFAULT_PALETTES.dark, slots), ownerColour('beta', DEFAULT_PALETTES.dark, slots));
  });
});
