/** The change set an operation reports covers every frame whose view changed, and stays small. */
import { strict as assert } from 'node:assert';
import { allocOp, ChangeSet, frames, freeOp, freeOwnerOp, initSectionsOp, PmemImage, sections } from '../../src/engine';
import { MiB, newImage, rng } from './helpers';
import { changeSetOf, coarseChangeSetOf } from '../../src/engine/image/changeSet';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../../src/engine/format/constants';
import { SECTION_ENTRY_SIZE } from '../../src/engine/format/layout';

function framesView(img: PmemImage): string[] {
  return frames(img, 0, img.geometry.totalFrames).map((f) => JSON.stringify({ ...f, extended: undefined }));
}

function covered(changed: ChangeSet, pfn: number): boolean {
  return changed.frames.some(([a, b]) => pfn >= a && pfn < b);
}

function assertCovers(before: string[], after: string[], changed: ChangeSet, what: string): void {
  for (let pfn = 0; pfn < after.length; pfn++) {
    if (before[pfn] !== after[pfn]) assert.ok(covered(changed, pfn), `${what}: frame ${pfn} changed but is not reported`);
  }
}

describe('what an operation changed', () => {
  for (const options of [{}, { links: 'descriptor' as const }, { memmap: 'ram' as const }]) {
    it(`covers every frame whose view changed, over random operations (${JSON.stringify(options)})`, () => {
      const { img } = newImage({ sizeBytes: 16 * MiB, maxOrder: 6, ...options });
      const random = rng(7);
      const held: number[] = [];
      for (let i = 0; i < 40; i++) {
        const before = framesView(img);
        const tableBefore = sections(img).map((s) => JSON.stringify(s));
        let r: { changed: ChangeSet };
        let what: string;
        if (held.length && random() < 0.4) {
          const pfn = held.splice(Math.floor(random() * held.length), 1)[0];
          r = freeOp(img, [pfn]);
          what = `free ${pfn}`;
        } else {
          const order = Math.floor(random() * 4);
          const a = allocOp(img, { order, count: 1 + Math.floor(random() * 3) });
          held.push(...a.blocks.map((b) => b.pfn));
          r = a;
          what = `alloc order ${order}`;
        }
        assertCovers(before, framesView(img), r.changed, what);
        sections(img).forEach((s, i) => {
          if (JSON.stringify(s) !== tableBefore[i]) assert.ok(r.changed.sections.includes(i), `${what}: section ${i} changed but is not reported`);
        });
      }
    });
  }

  it('is small for a small operation on a large image', () => {
    const { img } = newImage({ sizeBytes: 1024 * MiB });
    allocOp(img, { order: 0 });
    const r = allocOp(img, { order: 0 });
    const frameCount = r.changed.frames.reduce((n, [a, b]) => n + b - a, 0);
    assert.ok(frameCount <= 4, `${frameCount} frames reported for one order-0 allocation`);
    assert.deepEqual(r.changed.sections, [Math.floor(r.blocks[0].pfn / img.geometry.sectionFrames)]);
    assert.equal(r.changed.freeLists, true);
  });

  it('reports a whole section when it is initialised, and merges the parts of a large operation', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    const init = initSectionsOp(img, [3]);
    assert.ok(covered(init.changed, 3 * img.geometry.sectionFrames) && covered(init.changed, 4 * img.geometry.sectionFrames - 2));
    const big = allocOp(img, { order: 0, count: 3000, owner: 'x' });
    for (const b of big.blocks) assert.ok(covered(big.changed, b.pfn));
    const gone = freeOwnerOp(img, 'x');
    for (const f of gone.freed) assert.ok(covered(gone.changed, f.pfn));
  });
});

describe('a change set of writes that cross from one region into the next', () => {
  const { img } = newImage({ sizeBytes: 16 * MiB });
  const L = img.layout;
  const g = img.geometry;
  const tableAt = L.sectionTable.startPfn * PAGE_SIZE;
  const areaAt = L.freeArea.startPfn * PAGE_SIZE;
  const memmapAt = L.memmap.startPfn * PAGE_SIZE;
  const lastEntryAt = tableAt + (g.sectionCount - 1) * SECTION_ENTRY_SIZE;

  it('names only sections that exist, and counts the free-area part (the last section entry and the first free-area entry staged together)', () => {
    assert.ok(lastEntryAt + SECTION_ENTRY_SIZE < areaAt, 'the table is followed by padding here: the write crosses it');
    const crossing = { offset: lastEntryAt, data: new Uint8Array(areaAt + 32 - lastEntryAt) };
    const exact = changeSetOf(L, g, [crossing]);
    assert.deepEqual(exact.sections, [g.sectionCount - 1]);
    assert.equal(exact.freeLists, true);
    const coarse = coarseChangeSetOf(L, g, [{ offset: crossing.offset, length: crossing.data.length }]);
    assert.deepEqual(coarse.sections, [g.sectionCount - 1]);
    assert.equal(coarse.freeLists, true);
  });

  it('counts the descriptors of a write that begins before the memmap', () => {
    const crossing = new Uint8Array(64 + 2 * DESCRIPTOR_SIZE);
    const exact = changeSetOf(L, g, [{ offset: memmapAt - 64, data: crossing }]);
    assert.deepEqual(exact.frames, [[0, 2]]);
    const coarse = coarseChangeSetOf(L, g, [{ offset: memmapAt - 64, length: crossing.length }]);
    assert.ok(coarse.frames.length === 1 && coarse.frames[0][0] === 0 && coarse.frames[0][1] >= 2, JSON.stringify(coarse.frames));
  });
});
