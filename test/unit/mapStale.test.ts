import { strict as assert } from 'node:assert';
import { allocOp, PmemImage } from '../../src/engine';
import { mapCells } from '../../src/engine/inspect/mapCells';
import { MIX_STRIDE, OWNER_TAG } from '../../src/engine/inspect/mapCodes';
import { renderMap } from '../../src/cli/commands/map';
import { DEFAULT_PALETTES, ownerColour, rasterise, Rgb, STALE_DIMMING, staleHatchAt } from '../../src/shared/mapRaster';
import { deltaE2000 } from '../../src/shared/ownerPalette';
import { MiB, newImage } from './helpers';

const dim = (c: Rgb, bg: Rgb): number[] => c.map((v, i) => Math.round(v + (bg[i] - v) * STALE_DIMMING));

describe('page-frame map: stale is an overlay', () => {
  it('draws a stale cell as the state it holds, dimmed, so allocated, owned, free and never initialised stay apart', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB, historyBytes: 64 * 1024 });
    const owned = allocOp(img, { order: 3, owner: 'fs' }).blocks[0].pfn;
    const bare = allocOp(img, { order: 3 }).blocks[0].pfn;
    img.close();
    const again = PmemImage.open(store, {});
    const m = mapCells(again, { firstPfn: 0, framesPerCell: 1, cells: again.geometry.totalFrames });
    assert.ok(m.mix[owned * MIX_STRIDE + 5] > 0, 'the section is stale');
    const free = m.blocks.find((_, i) => i % 2 === 0 && m.tag[m.blocks[i]] > 0 && m.tag[m.blocks[i]] < OWNER_TAG && m.mix[m.blocks[i] * MIX_STRIDE + 5] > 0)!;
    const never = again.geometry.totalFrames - 1;
    for (const [name, p] of Object.entries(DEFAULT_PALETTES)) {
      const out = new Uint8ClampedArray(m.cells * 4);
      rasterise(m, p, again.geometry.maxOrder, out);
      const px = (c: number): Rgb => [out[c * 4], out[c * 4 + 1], out[c * 4 + 2]];
      const near = (a: Rgb, b: number[], what: string) => assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1), `${name}: ${what}: ${a} vs ${b}`);
      near(px(owned), dim(ownerColour('fs', p)!, p.background), 'an owned stale block keeps its owner\'s colour, dimmed');
      near(px(bare), dim(p.allocated, p.background), 'an ownerless one the allocated colour');
      const pairs: Array<[string, Rgb, Rgb]> = [['allocated / never initialised', px(bare), px(never)], ['owned / free', px(owned), px(free)], ['allocated / free', px(bare), px(free)]];
      for (const [what, a, b] of pairs) assert.ok(deltaE2000(a, b) >= 10, `${name}: stale ${what} ΔE00 ${deltaE2000(a, b).toFixed(1)}`);
    }
  });

  it('hatches stale sections in the CLI picture, over the dimmed state', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB, historyBytes: 64 * 1024 });
    allocOp(img, { order: 0 });
    img.close();
    const again = PmemImage.open(store, {});
    assert.ok(mapCells(again, { firstPfn: 0, framesPerCell: again.geometry.sectionFrames, cells: 1 }).mix[5] > 0, 'section 0 is stale');
    const r = renderMap(again, 256, 256, 'dark');
    const stale = DEFAULT_PALETTES.dark.stale.map(Math.round);
    const at = (x: number, y: number) => Array.from(r.rgba.subarray((y * r.width + x) * 4, (y * r.width + x) * 4 + 3));
    const sectionRows = Math.floor(again.geometry.sectionFrames / r.layout.framesPerRow * r.layout.cellPx);
    let hatched = 0, plain = 0;
    for (let y = 0; y < Math.min(sectionRows, r.height); y++) {
      for (let x = 0; x < r.width; x++) {
        if (at(x, y).join() === stale.join()) {
          assert.ok(staleHatchAt(x, y), `(${x}, ${y}) is stale-coloured off the hatch`);
          hatched++;
        } else plain++;
      }
    }
    assert.ok(hatched > 0 && plain > hatched, `hatch ${hatched} pixels, ${plain} others`);
    const last = at(r.width - 1, r.height - 1);
    assert.notDeepEqual(last, stale, 'a never-initialised section is not hatched');
  });
});
