/** A map window patched with the cells a change touched equals the window computed afresh. */
import { strict as assert } from 'node:assert';
import { allocOp, ChangeSet, freeOp, initSectionsOp } from '../../src/engine';
import { mapCells, MapCells } from '../../src/engine/inspect/mapCells';
import { MIX_STRIDE, OWNER_TAG } from '../../src/engine/inspect/mapCodes';
import { changedCellRuns, MapChange, patchCells, subWindow } from '../../src/shared/mapPatch';
import { MiB, newImage, rng } from './helpers';

/** Each cell as its mix and its tag, owners by name (indices differ between answers). */
function cellsView(m: MapCells): string[] {
  return Array.from({ length: m.cells }, (_, c) => {
    const t = m.tag[c];
    return `${Array.from(m.mix.subarray(c * MIX_STRIDE, (c + 1) * MIX_STRIDE)).join(',')}|${t >= OWNER_TAG ? `owner ${m.owners[t - OWNER_TAG]}` : t}`;
  });
}

const asChange = (c: ChangeSet): MapChange => ({ all: false, frames: c.frames, sections: c.sections });

describe('map window patched from a change', () => {
  for (const framesPerCell of [1, 4, 64]) {
    it(`equals the window computed afresh after random allocations and frees (${framesPerCell} frame(s) per cell), fetching few cells`, () => {
      const { img } = newImage({ sizeBytes: 32 * MiB, maxOrder: 8 });
      const g = img.geometry;
      const window = { firstPfn: 0, framesPerCell, cells: Math.ceil(g.totalFrames / framesPerCell) };
      const shown = mapCells(img, window);
      const random = rng(3);
      const held: number[] = [];
      let fetched = 0;
      for (let i = 0; i < 50; i++) {
        let r: { changed: ChangeSet };
        if (held.length && random() < 0.4) r = freeOp(img, held.splice(Math.floor(random() * held.length), 1));
        else if (random() < 0.05) r = initSectionsOp(img, [Math.floor(random() * g.sectionCount)]);
        else {
          const a = allocOp(img, { order: Math.floor(random() * 5), owner: `o${i % 4}` });
          held.push(a.blocks[0].pfn);
          r = a;
        }
        const runs = changedCellRuns(shown, asChange(r.changed), g.sectionFrames);
        assert.ok(runs, `change ${i}: a small change asks for the whole window`);
        for (const run of runs) {
          const patch = mapCells(img, subWindow(shown, run));
          fetched += patch.cells;
          assert.ok(patchCells(shown, patch), 'the patch fits the window');
        }
        const fresh = mapCells(img, window);
        assert.deepEqual(cellsView(shown), cellsView(fresh), `change ${i}: cells differ from a fresh window`);
        if (framesPerCell === 1) assert.deepEqual(shown.blocks, fresh.blocks, `change ${i}: block outlines differ`);
      }
      assert.ok(fetched < (window.cells * 50) / 4, `fetched ${fetched} cells over 50 changes of a ${window.cells}-cell window`);
    });
  }

  it('reports which cells differ, and refuses a patch of another grid', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    const window = { firstPfn: 0, framesPerCell: 1, cells: img.geometry.totalFrames };
    const shown = mapCells(img, window);
    const r = allocOp(img, { order: 2, owner: 'x' });
    const runs = changedCellRuns(shown, asChange(r.changed), img.geometry.sectionFrames)!;
    const pfn = r.blocks[0].pfn;
    const changed = runs.flatMap((run) => patchCells(shown, mapCells(img, subWindow(shown, run)))!);
    for (let p = pfn; p < pfn + 4; p++) assert.ok(changed.includes(p), `cell of pfn ${p} not reported as changed`);
    assert.equal(patchCells(shown, mapCells(img, { firstPfn: 0, framesPerCell: 2, cells: 8 })), undefined);
    assert.equal(patchCells(shown, mapCells(img, { firstPfn: shown.cells - 2, framesPerCell: 1, cells: 8 })), undefined);
  });

  it('asks for nothing when the change is elsewhere, for the whole window when it is everything or too much', () => {
    const w = { firstPfn: 1000, framesPerCell: 1, cells: 1000 };
    assert.deepEqual(changedCellRuns(w, { all: false, frames: [[0, 999], [2000, 2100]], sections: [0] }, 512), [], 'a detailed window ignores section entries');
    assert.deepEqual(changedCellRuns(w, { all: false, frames: [[990, 1003], [1040, 1041], [1500, 1501]], sections: [] }, 512), [[0, 41], [500, 501]], 'close runs merge');
    assert.equal(changedCellRuns(w, { all: true, frames: [], sections: [] }, 512), undefined);
    assert.equal(changedCellRuns(w, { all: false, frames: [[1000, 1400]], sections: [] }, 512), undefined, 'over a quarter of the window');
    const many = Array.from({ length: 40 }, (_, i) => [1000 + i * 20, 1001 + i * 20] as [number, number]);
    assert.deepEqual(changedCellRuns(w, { all: false, frames: many, sections: [] }, 512, { maxRuns: 32, gap: 0, maxShare: 1 }), undefined, 'too many runs');
    const zoomedOut = { firstPfn: 0, framesPerCell: 4096, cells: 256 };
    assert.deepEqual(changedCellRuns(zoomedOut, { all: false, frames: [], sections: [3] }, 262144), [[192, 256]], 'a zoomed-out window follows section entries');
  });
});
