import { strict as assert } from 'node:assert';
import { allocOp, freeOp } from '../../src/engine';
import { mapCells } from '../../src/engine/inspect/mapCells';
import { MIX_STRIDE, OWNER_TAG } from '../../src/engine/inspect/mapCodes';
import { DEFAULT_PALETTES, rasterise } from '../../src/shared/mapRaster';
import { HeldCells, previewCells, Previews, SummaryHold } from '../../webview/preview';
import { MiB, newImage } from './helpers';

/** Held cells whose every cell has its own mix: channel k of cell c is (c * 7 + k) % 256. */
function held(firstPfn: number, framesPerCell: number, cells: number, owners: string[] = [], tags: number[] = [], version = 1): HeldCells {
  const mix = new Uint8Array(cells * MIX_STRIDE).map((_, i) => (Math.floor(i / MIX_STRIDE) * 7 + (i % MIX_STRIDE)) % 256);
  const tag = new Uint16Array(cells);
  tags.forEach((t, c) => (tag[c] = t));
  return { version, firstPfn, framesPerCell, cells, mix, tag, owners };
}

const mixOf = (c: { mix: Uint8Array }, i: number) => Array.from(c.mix.subarray(i * MIX_STRIDE, (i + 1) * MIX_STRIDE));
const ownerOf = (c: { tag: Uint16Array; owners: string[] }, i: number) => (c.tag[i] >= OWNER_TAG ? c.owners[c.tag[i] - OWNER_TAG] : undefined);

describe('map preview while cells are on their way', () => {
  it('zooming in, each cell takes its parent cell from the last window, owners renumbered', () => {
    // Cells 2 and 3 of the window (pfns 8 to 15) are wholly in blocks of "b" and "a"; cell 1 is a free block of order 2.
    const window = held(0, 4, 16, ['a', 'b', 'c'], [0, 1 + 2, OWNER_TAG + 1, OWNER_TAG + 0]);
    const p = previewCells({ firstPfn: 4, framesPerCell: 1, cells: 16 }, 1 << 20, [window, undefined]);
    assert.equal(p.cells, 16);
    assert.deepEqual(p.blocks, [], 'no block outlines in a preview');
    for (let c = 0; c < 16; c++) assert.deepEqual(mixOf(p, c), mixOf(window, Math.floor((4 + c) / 4)), `cell ${c}`);
    assert.equal(p.tag[0], 1 + 2, 'a free block keeps its order');
    assert.deepEqual(p.owners, ['b', 'a'], 'only the owners met, in the order met');
    assert.deepEqual([4, 5, 6, 7, 8, 11].map((c) => ownerOf(p, c)), ['b', 'b', 'b', 'b', 'a', 'a']);
    assert.equal(p.tag[12], 0);
    assert.equal(p.version, window.version);
  });

  it('previews the largest-free-order overlay too: a parent\'s order zooming in, the largest of the cells covered zooming out; none without it', () => {
    const window = { ...held(0, 4, 8), largestFree: Uint8Array.from([0xff, 2, 0, 0xff, 5, 1, 0xff, 0xff]) };
    const zoomedIn = previewCells({ firstPfn: 4, framesPerCell: 2, cells: 6 }, 1 << 20, [window, undefined]);
    assert.deepEqual(Array.from(zoomedIn.largestFree!), [2, 2, 0, 0, 0xff, 0xff]);
    const zoomedOut = previewCells({ firstPfn: 0, framesPerCell: 16, cells: 2 }, 1 << 20, [window, undefined]);
    assert.deepEqual(Array.from(zoomedOut.largestFree!), [2, 5]);
    // A source without the overlay (cells asked for before it was switched on): no overlay in the preview, not a wrong one.
    assert.equal(previewCells({ firstPfn: 0, framesPerCell: 16, cells: 2 }, 1 << 20, [held(0, 4, 8), undefined]).largestFree, undefined);
  });

  it('zooming out past the window, cells come from the overview, weighted by the frames they share', () => {
    const total = 4096;
    const overview = held(0, 64, total / 64, [], [], 3);
    const window = held(1024, 1, 256, [], new Array(256).fill(1 + 3), 4); // the last window, every frame in free blocks of order 3
    const p = previewCells({ firstPfn: 0, framesPerCell: 128, cells: total / 128 }, total, [window, overview]);
    for (let c = 0; c < p.cells; c++) {
      const expected = mixOf(overview, 2 * c).map((v, k) => Math.round((v + overview.mix[(2 * c + 1) * MIX_STRIDE + k]) / 2));
      if (c === 8 || c === 9) continue; // pfns 1024 to 1279: inside the window, which is preferred
      assert.deepEqual(mixOf(p, c), expected, `cell ${c}`);
    }
    // Cell 8 (pfns 1024 to 1151) lies in the window: the average of its 128 cells.
    const fromWindow = Array.from({ length: MIX_STRIDE }, (_, k) => Math.round(Array.from({ length: 128 }, (_, i) => window.mix[i * MIX_STRIDE + k]).reduce((a, b) => a + b) / 128));
    assert.deepEqual(mixOf(p, 8), fromWindow);
    assert.equal(p.version, 3, 'as old as the oldest source used');
    assert.ok(Array.from(p.tag).every((t) => t === 0), 'cells coarser than the host tags are untagged');
  });

  it('a cell partly in the window takes the overview; cells past the end of the device stay empty', () => {
    const total = 998;
    const overview = held(0, 32, Math.ceil(total / 32));
    const window = held(964, 4, 9); // pfns 964 to 997: its last cell holds 2 frames
    const p = previewCells({ firstPfn: 944, framesPerCell: 8, cells: 10 }, total, [window, overview]);
    const average = (cells: number[], weights: number[]) => Array.from({ length: MIX_STRIDE }, (_, k) =>
      Math.round(cells.reduce((sum, c, i) => sum + window.mix[c * MIX_STRIDE + k] * weights[i], 0) / weights.reduce((x, y) => x + y)));
    // pfns 944 to 959: before the window, from overview cell 29 (pfns 928 to 959).
    assert.deepEqual(mixOf(p, 0), mixOf(overview, 29));
    assert.deepEqual(mixOf(p, 1), mixOf(overview, 29));
    // pfns 960 to 967 straddle the window's start: overview cell 30.
    assert.deepEqual(mixOf(p, 2), mixOf(overview, 30));
    // pfns 968 to 975: window cells 1 and 2.
    assert.deepEqual(mixOf(p, 3), average([1, 2], [1, 1]));
    // pfns 992 to 997, the device's last frames: 4 of window cell 7, 2 of cell 8.
    assert.deepEqual(mixOf(p, 6), average([7, 8], [4, 2]));
    // Cells 7 (pfns 1000 to 1007) and on are past the last frame: no colour at all.
    for (let c = 7; c < 10; c++) assert.deepEqual(mixOf(p, c), [0, 0, 0, 0, 0, 0], `cell ${c}`);
    const rgba = new Uint8ClampedArray(p.cells * 4);
    rasterise(p, DEFAULT_PALETTES.dark, 10, rgba);
    assert.deepEqual(Array.from(rgba.subarray(9 * 4, 9 * 4 + 3)), [...DEFAULT_PALETTES.dark.background], 'drawn as the background');
  });

  it('with nothing held, every cell is empty rather than someone else\'s', () => {
    const p = previewCells({ firstPfn: 0, framesPerCell: 1, cells: 8 }, 100, [undefined, undefined]);
    assert.ok(p.mix.every((v) => v === 0));
  });

  it('matches the host\'s cells of a real image: zooming out exactly, zooming in inside blocks', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    const total = img.geometry.totalFrames;
    const a = allocOp(img, { order: 4, count: 6, owner: 'alpha' }).blocks;
    const b = allocOp(img, { order: 2, count: 9, owner: 'beta' }).blocks;
    freeOp(img, [a[1].pfn, b[3].pfn]);
    const first = Math.floor(Math.min(a[0].pfn, b[0].pfn) / 256) * 256;
    const frames = mapCells(img, { firstPfn: first, framesPerCell: 1, cells: 1024 });
    const overview = mapCells(img, { firstPfn: 0, framesPerCell: 64, cells: total / 64 });
    const owners = (c: { tag: Uint16Array; owners: string[] }) => Array.from(c.tag, (_, i) => ownerOf(c, i));

    // Out: a window of 4 frames per cell inside the frame-level window has exactly the host's mix.
    const want = { firstPfn: first + 128, framesPerCell: 4, cells: 128 };
    const out = previewCells(want, total, [{ ...frames, version: 1 }, { ...overview, version: 1 }]);
    const real = mapCells(img, want);
    for (let c = 0; c < want.cells; c++) assert.deepEqual(mixOf(out, c), mixOf(real, c), `cell ${c} zoomed out`);
    owners(real).forEach((o, c) => o && assert.equal(ownerOf(out, c), o, `owner of cell ${c}`));

    // In: from 16 frames per cell to 2, every cell the host tags (inside one block) is as the host draws it.
    const coarse = mapCells(img, { firstPfn: first, framesPerCell: 16, cells: 64 });
    const fine = { firstPfn: first + 64, framesPerCell: 2, cells: 256 };
    const inPreview = previewCells(fine, total, [{ ...coarse, version: 1 }, { ...overview, version: 1 }]);
    const inReal = mapCells(img, fine);
    let tagged = 0;
    for (let c = 0; c < fine.cells; c++) {
      const parent = Math.floor((fine.firstPfn + c * 2 - first) / 16);
      if (coarse.tag[parent] === 0) continue;
      tagged++;
      assert.deepEqual(mixOf(inPreview, c), mixOf(inReal, c), `cell ${c} zoomed in`);
      assert.equal(ownerOf(inPreview, c), ownerOf(inReal, c));
      if (inReal.tag[c] < OWNER_TAG) assert.equal(inPreview.tag[c], inReal.tag[c], `free order of cell ${c}`);
    }
    assert.ok(tagged > 40, `${tagged} cells inside blocks compared`);
  });

  it('draws the held cells for their own window, and one preview per new window until something changes', () => {
    const previews = new Previews();
    const cells = { ...held(0, 4, 16), type: 'cells' as const };
    const overview = { ...held(0, 64, 16), type: 'cells' as const };
    assert.equal(previews.picture(undefined, cells, overview, 1024), cells);
    assert.equal(previews.picture({ firstPfn: 0, framesPerCell: 4, cells: 16 }, cells, overview, 1024), cells, 'the same window: the cells themselves');
    const want = { firstPfn: 16, framesPerCell: 2, cells: 16 };
    const p = previews.picture(want, cells, overview, 1024);
    assert.notEqual(p, cells);
    assert.equal(p?.framesPerCell, 2);
    assert.equal(previews.picture(want, cells, overview, 1024), p, 'sampled once');
    const newer = { ...overview, version: 2 };
    assert.notEqual(previews.picture(want, cells, newer, 1024), p, 'sampled again from a new overview');
  });
});

describe('summary held until the map shows its state', () => {
  function harness() {
    const shown: string[] = [];
    const marks: boolean[] = [];
    const timers: Array<{ fn: () => void; ms: number; cleared?: boolean }> = [];
    const hold = new SummaryHold((t) => shown.push(t), (h) => marks.push(h), 2000, {
      setTimeout: (fn, ms) => timers.push({ fn, ms }) - 1,
      clearTimeout: (h) => (timers[h as number].cleared = true),
    });
    const fire = () => timers.filter((t) => !t.cleared).forEach((t) => t.fn());
    return { shown, marks, timers, hold, fire };
  }

  it('shows the first summary at once, before anything is drawn', () => {
    const { shown, hold } = harness();
    hold.offer('v1', 1);
    assert.deepEqual(shown, ['v1']);
  });

  it('holds a newer summary until cells of its version are drawn, keeping the newest text', () => {
    const { shown, marks, hold } = harness();
    hold.offer('v1', 1);
    hold.drawn(1);
    hold.offer('v2', 2);
    hold.offer('v3', 3);
    assert.deepEqual(shown, ['v1']);
    assert.equal(hold.holding, true);
    hold.drawn(2);
    assert.deepEqual(shown, ['v1'], 'the map is still older than v3');
    hold.drawn(3);
    assert.deepEqual(shown, ['v1', 'v3']);
    assert.deepEqual(marks, [true, false]);
    hold.offer('v3 again', 3);
    assert.deepEqual(shown, ['v1', 'v3', 'v3 again'], 'the same state is shown at once');
  });

  it('shows a held summary after the ceiling when the cells do not come', () => {
    const { shown, timers, hold, fire } = harness();
    hold.drawn(1);
    hold.offer('v2', 2);
    assert.equal(timers[0].ms, 2000);
    fire();
    assert.deepEqual(shown, ['v2']);
    assert.equal(hold.holding, false);
    hold.drawn(2);
    assert.deepEqual(shown, ['v2'], 'not written twice');
  });

  it('clears its ceiling when the cells come in time', () => {
    const { shown, timers, hold } = harness();
    hold.drawn(1);
    hold.offer('v2', 2);
    hold.drawn(4);
    assert.equal(timers[0].cleared, true);
    assert.deepEqual(shown, ['v2']);
  });
});
