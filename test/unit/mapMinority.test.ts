import { strict as assert } from 'node:assert';
import { allocOp, MemoryStore, PmemImage } from '../../src/engine';
import { cellMix, mapCells, shareOf } from '../../src/engine/inspect/mapCells';
import { MIX_CHANNELS, MIX_STRIDE } from '../../src/engine/inspect/mapCodes';
import { fitZoom, layoutAt } from '../../src/shared/mapGeometry';
import { DEFAULT_PALETTES, rasterise, Rgb } from '../../src/shared/mapRaster';
import { MiB, newImage } from './helpers';

const TiB = 2 ** 40;
const pixel = (rgba: Uint8ClampedArray, c: number): Rgb => [rgba[c * 4], rgba[c * 4 + 1], rgba[c * 4 + 2]];

describe('page-frame map: minorities are never mixed away', () => {
  it('keeps a share of at least 1 for a single frame and at most 254 for all but one', () => {
    assert.equal(shareOf(0, 1 << 20), 0);
    assert.equal(shareOf(1, 1 << 20), 1);
    assert.equal(shareOf((1 << 20) - 1, 1 << 20), 254);
    assert.equal(shareOf(1 << 20, 1 << 20), 255);
    assert.equal(shareOf(512, 1024), 128);
  });

  it('shows a single order-0 allocation in the whole-device view of a 1 TiB image, with its exact mix', () => {
    const store = new MemoryStore(TiB);
    PmemImage.create(store, { sizeBytes: TiB });
    const img = PmemImage.open(store, {});
    const pfn = allocOp(img, { order: 0 }).blocks[0].pfn;
    const total = img.geometry.totalFrames;
    const l = layoutAt(fitZoom(total, 1600, 900), total, 1600);
    assert.ok(l.framesPerCell >= 256, `a cell holds many frames (${l.framesPerCell})`);
    const m = mapCells(img, { firstPfn: 0, framesPerCell: l.framesPerCell, cells: Math.ceil(total / l.framesPerCell) });
    const cell = Math.floor(pfn / l.framesPerCell);
    assert.ok(m.mix[cell * MIX_STRIDE + 3] > 0, 'the cell says it holds allocated frames');
    for (const [name, palette] of Object.entries(DEFAULT_PALETTES)) {
      const rgba = new Uint8ClampedArray(m.cells * 4);
      rasterise(m, palette, img.geometry.maxOrder, rgba);
      assert.deepEqual(pixel(rgba, cell), palette.allocated.map(Math.round), `${name}: the cell is drawn allocated`);
      const others = Array.from({ length: m.cells }, (_, c) => c).filter((c) => c !== cell && pixel(rgba, c).join() === pixel(rgba, cell).join());
      assert.deepEqual(others, [], `${name}: no other cell looks allocated`);
    }
    const mix = cellMix(img, cell * l.framesPerCell, l.framesPerCell);
    const named = Object.fromEntries(MIX_CHANNELS.map((n, k) => [n, mix[k]]));
    assert.equal(named.allocated, 1, `exactly one allocated frame: ${JSON.stringify(named)}`);
    assert.equal(named.free + named.allocated + named.never + named.metadata + named.memmap, l.framesPerCell, 'every frame counted once');
  });

  it('counts a cell inside one section exactly, from its block heads, not the section summary spread evenly', () => {
    const { img } = newImage({ sizeBytes: 64 * MiB });
    const blocks = allocOp(img, { order: 0, count: 3 }).blocks.map((b) => b.pfn);
    const sf = img.geometry.sectionFrames;
    const first = blocks[0] - (blocks[0] % 64);
    const mix = cellMix(img, first, 64);
    assert.ok(64 < sf);
    assert.equal(mix[3], blocks.filter((p) => p >= first && p < first + 64).length);
    // A cell of the same section without those frames holds none.
    const away = (Math.floor(blocks[0] / sf) * sf + sf - 64);
    if (!blocks.some((p) => p >= away && p < away + 64)) assert.equal(cellMix(img, away, 64)[3], 0);
  });

  it('draws a cell holding free and never-initialised frames as free, and an allocated one as allocated', () => {
    const palette = DEFAULT_PALETTES.dark;
    const mix = new Uint8Array(3 * MIX_STRIDE);
    mix.set([0, 0, 1, 0, 254, 0], 0); // one free frame among never-initialised ones
    mix.set([0, 0, 200, 1, 54, 0], MIX_STRIDE); // one allocated among free ones
    mix.set([0, 0, 0, 0, 255, 0], 2 * MIX_STRIDE);
    const rgba = new Uint8ClampedArray(12);
    rasterise({ cells: 3, mix, tag: new Uint16Array(3), owners: [] }, palette, 10, rgba);
    assert.notDeepEqual(pixel(rgba, 0), pixel(rgba, 2), 'a free frame among never-initialised ones shows');
    assert.deepEqual(pixel(rgba, 1), palette.allocated.map(Math.round));
  });
});
