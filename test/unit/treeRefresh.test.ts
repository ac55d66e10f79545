/**
 * The Descriptors view refreshes only the nodes a change touched, and a tree
 * item reads one section entry or one descriptor's block, however large the image.
 */
import { strict as assert } from 'node:assert';
import { allocOp, frames, MemoryStore, PmemImage, sections } from '../../src/engine';
import { descriptorTargets, FRAMES_ONE_BY_ONE } from '../../src/extension/trees/refreshTargets';
import { mapCells } from '../../src/engine/inspect/mapCells';

const g = { sectionFrames: 512, sectionCount: 64 };

describe('Descriptors view refresh targets', () => {
  it('refreshes a shown section whose entry changed, and nothing under it besides', () => {
    const kept = new Set(['s:3', 'fp:1536:256', 'f:1540']);
    assert.deepEqual(descriptorTargets({ frames: [[1540, 1541]], sections: [3] }, g, 256, (k) => kept.has(k)), ['s:3']);
  });

  it('refreshes the changed frames shown one by one where their section is not refreshed, their page when many changed', () => {
    const kept = new Set(['fp:1536:256', 'f:1540', 'f:1541', 'fp:1792:256']);
    assert.deepEqual(descriptorTargets({ frames: [[1540, 1544]], sections: [] }, g, 256, (k) => kept.has(k)), ['f:1540', 'f:1541'], 'only the frames the view holds');
    assert.deepEqual(descriptorTargets({ frames: [[1536, 1536 + FRAMES_ONE_BY_ONE + 1], [1800, 1801]], sections: [] }, g, 256, (k) => kept.has(k)), ['fp:1536:256'], 'many frames of a page: the page');
    assert.deepEqual(descriptorTargets({ frames: [[1700, 1900]], sections: [] }, g, 256, (k) => kept.has(k)), ['fp:1536:256', 'fp:1792:256'], 'a run over two pages');
  });

  it('refreshes nothing the view does not hold', () => {
    assert.deepEqual(descriptorTargets({ frames: [[0, 32768]], sections: [0, 1, 2] }, g, 256, () => false), []);
  });
});

/** Counts the bytes read through a store. */
class CountingStore extends MemoryStore {
  bytesRead = 0;
  override read(offset: number, length: number): Uint8Array {
    this.bytesRead += length;
    return super.read(offset, length);
  }
}

describe('tree items on a 1 TiB image', () => {
  it('read one section entry for a section item, one descriptor block for a frame item, and the window only for map cells', () => {
    const store = new CountingStore(2 ** 40);
    PmemImage.create(store, { sizeBytes: 2 ** 40, sectionBytes: 2 * 2 ** 20 });
    const img = PmemImage.open(store);
    const pfn = allocOp(img, { order: 3, owner: 'x' }).blocks[0].pfn;
    const s = Math.floor(pfn / img.geometry.sectionFrames);
    assert.ok(img.geometry.sectionCount >= 500_000, 'a table of half a million sections');
    store.bytesRead = 0;
    assert.equal(sections(img, s, 1)[0].allocatedFrames, 8);
    assert.ok(store.bytesRead <= 4096, `a section item read ${store.bytesRead} bytes`);
    store.bytesRead = 0;
    assert.equal(frames(img, pfn + 5, 1)[0].blockPfn, pfn);
    assert.ok(store.bytesRead <= 64 * 1024, `a frame item read ${store.bytesRead} bytes`);
    store.bytesRead = 0;
    mapCells(img, { firstPfn: pfn, framesPerCell: 1, cells: 8 });
    assert.ok(store.bytesRead <= 64 * 1024, `eight map cells read ${store.bytesRead} bytes (the section table is ${img.geometry.sectionCount * 16} bytes)`);
  });
});
