/** The change set an operation reports covers every frame whose view changed, and stays small. */
import { strict as assert } from 'node:assert';
import { allocOp, ChangeSet, frames, freeOp, freeOwnerOp, initSectionsOp, PmemImage, sections } from '../../src/engine';
import { MiB, newImage, rng } from './helpers';

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
