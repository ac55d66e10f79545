/** The editing session says what each edit changed, and the kept totals follow edits, undos and redos exactly. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, blocks, frames, freeOp, initSectionsOp, PmemImage, sections } from '../../src/engine';
import { ChangeSet } from '../../src/engine/image/changeSet';
import { ChangeTracker } from '../../src/engine/image/changeTracker';
import { ImageSession, SessionEdit } from '../../src/engine/node/session';
import { FileStore } from '../../src/engine/node/fileStore';
import { imageTotals } from '../../src/engine/inspect/totals';
import { GiB, MiB, rng } from './helpers';

const framesView = (img: PmemImage) => frames(img, 0, img.geometry.totalFrames).map((f) => JSON.stringify({ ...f, extended: undefined }));
const sectionsView = (img: PmemImage) => sections(img).map((s) => JSON.stringify(s));
const covered = (c: ChangeSet, pfn: number) => c.frames.some(([a, b]) => pfn >= a && pfn < b);

function assertCovers(before: { frames: string[]; sections: string[] }, img: PmemImage, c: ChangeSet, what: string): void {
  const after = framesView(img);
  for (let pfn = 0; pfn < after.length; pfn++) if (after[pfn] !== before.frames[pfn]) assert.ok(covered(c, pfn), `${what}: frame ${pfn} changed but is not reported`);
  sectionsView(img).forEach((s, i) => {
    if (s !== before.sections[i]) assert.ok(c.sections.includes(i), `${what}: section ${i} changed but is not reported`);
  });
}

describe('what the editing session says each edit changed', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-changes-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function open(sizeBytes: number, options: { memmap?: 'ram'; sectionBytes?: number } = {}): ImageSession {
    const file = path.join(dir, 'a.pmem');
    const store = FileStore.create(file, sizeBytes, { overwrite: false });
    PmemImage.create(store, { sizeBytes, maxOrder: 6, ...options });
    store.close();
    return ImageSession.open(file);
  }

  for (const options of [{}, { memmap: 'ram' as const }]) {
    it(`covers every frame and section an edit, its undo or its redo changes, and keeps the totals exact (${JSON.stringify(options)})`, () => {
      const s = open(16 * MiB, options);
      const tracker = new ChangeTracker();
      const boot = s.bootIfNeeded()!;
      assert.equal(boot.changed, undefined, 'a boot changes every initialised section: not known frame by frame');
      assert.equal(tracker.edited(boot.changed, 1).all, true);
      tracker.totals(s.image, s.version); // counted once here, kept from now on
      const random = rng(11);
      const done: SessionEdit[] = [];
      const undone: SessionEdit[] = [];
      for (let i = 0; i < 60; i++) {
        const before = { frames: framesView(s.image), sections: sectionsView(s.image) };
        const roll = random();
        let edit: SessionEdit;
        let what: string;
        let sign: 1 | -1 = 1;
        if (roll < 0.2 && done.length) {
          edit = done.pop()!;
          edit.undo();
          undone.push(edit);
          what = `undo ${edit.label}`;
          sign = -1;
        } else if (roll < 0.3 && undone.length) {
          edit = undone.pop()!;
          edit.redo();
          done.push(edit);
          what = `redo ${edit.label}`;
        } else {
          undone.length = 0;
          const held = blocks(s.image, 0, s.image.geometry.totalFrames).filter((b) => !b.free && b.owner);
          if (roll < 0.5 && held.length) {
            const pfn = held[Math.floor(random() * held.length)].pfn;
            edit = s.perform('free', (img) => freeOp(img, [pfn])).edit;
            what = `free ${pfn}`;
          } else if (roll < 0.55) {
            edit = s.perform('init', (img) => initSectionsOp(img, [Math.floor(random() * img.geometry.sectionCount)])).edit;
            what = 'init';
          } else {
            const order = Math.floor(random() * 4);
            edit = s.perform('alloc', (img) => allocOp(img, { order, count: 1 + Math.floor(random() * 3), owner: `o${i % 3}` })).edit;
            what = `alloc order ${order}`;
          }
          done.push(edit);
        }
        assert.ok(edit.changed, `${what}: an edit on a running machine knows its change`);
        const change = tracker.edited(edit.changed, sign, s.version);
        assert.equal(change.all, false);
        assertCovers(before, s.image, change, what);
        assert.deepEqual(tracker.totals(s.image, s.version), imageTotals(s.image), `${what}: the kept totals drifted`);
      }
      s.close();
    });
  }

  it('is in proportion to the edit: one allocation on a large image reports its block, one section and the free lists', () => {
    const s = open(GiB, { sectionBytes: 2 * MiB });
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 0 }));
    const { result, edit } = s.perform('alloc', (img) => allocOp(img, { order: 0 }));
    const c = edit.changed!.change;
    const frameCount = c.frames.reduce((n, [a, b]) => n + b - a, 0);
    assert.ok(frameCount <= 4, `${frameCount} frames reported for one order-0 allocation`);
    assert.deepEqual(c.sections, [Math.floor(result.blocks[0].pfn / s.image.geometry.sectionFrames)]);
    assert.equal(c.freeLists, true);
    assert.equal(edit.changed!.totals.frames.allocated, 1);
    assert.equal(edit.changed!.totals.frames.free, -1);
    s.close();
  });

  it('tells a large edit (megabytes written) from where its writes fell, in whole blocks of the largest order: every changed frame covered, totals exact', () => {
    const s = open(256 * MiB);
    const tracker = new ChangeTracker();
    tracker.edited(s.bootIfNeeded()!.changed, 1);
    tracker.totals(s.image, s.version);
    tracker.edited(s.perform('alloc', (img) => allocOp(img, { order: 0, count: 3, owner: 'few' })).edit.changed, 1, s.version); // initialises a section
    const small = s.perform('alloc', (img) => allocOp(img, { order: 0, count: 3, owner: 'few' })).edit;
    const told = tracker.edited(small.changed, 1, s.version);
    assert.ok(told.frames.some(([a, b]) => a % 64 !== 0 || b % 64 !== 0), `a small edit is told frame by frame: ${JSON.stringify(told.frames)}`);
    const steps: Array<[string, () => SessionEdit, 1 | -1]> = [];
    let big: SessionEdit | undefined;
    steps.push(['allocate 20,000 frames', () => (big = s.perform('alloc', (img) => allocOp(img, { order: 0, count: 20_000, owner: 'many' })).edit), 1]);
    steps.push(['its undo', () => (big!.undo(), big!), -1]);
    steps.push(['its redo', () => (big!.redo(), big!), 1]);
    for (const [what, run, sign] of steps) {
      const before = { frames: framesView(s.image), sections: sectionsView(s.image) };
      const edit = run();
      const change = tracker.edited(edit.changed, sign, s.version);
      assert.equal(change.all, false, what);
      assertCovers(before, s.image, change, what);
      assert.deepEqual(tracker.totals(s.image, s.version), imageTotals(s.image), `${what}: the kept totals drifted`);
      // maxOrder 6: runs of whole 64-frame blocks say the writes were not read back frame by frame.
      assert.ok(change.frames.every(([a, b]) => a % 64 === 0 && b % 64 === 0), `${what}: ${JSON.stringify(change.frames.slice(0, 4))}`);
    }
    s.close();
  });

  it('counts an edit once when the totals were counted after it was made but before it was told (a boot and its first operation)', () => {
    const s = open(16 * MiB);
    const tracker = new ChangeTracker();
    const boot = s.bootIfNeeded()!;
    const op = s.perform('alloc', (img) => allocOp(img, { order: 2 })).edit;
    tracker.edited(boot.changed, 1); // everything: the kept totals are dropped
    tracker.totals(s.image, s.version); // a view counts them again, the allocation already made
    tracker.edited(op.changed, 1);
    assert.deepEqual(tracker.totals(s.image, s.version), imageTotals(s.image));
    op.undo();
    tracker.edited(op.changed, -1, s.version);
    assert.deepEqual(tracker.totals(s.image, s.version), imageTotals(s.image));
    s.close();
  });

  it('reports everything for a reboot and a crash, nothing for a save, and drops the kept totals on everything', () => {
    const s = open(16 * MiB);
    const tracker = new ChangeTracker();
    tracker.edited(s.bootIfNeeded()!.changed, 1);
    s.perform('alloc', (img) => allocOp(img, { order: 2 }));
    assert.equal(s.reboot().changed, undefined);
    assert.equal(s.crashAndReboot(3, 'alloc', (img) => void allocOp(img, { order: 1 })).edit.changed, undefined);
    const kept = tracker.totals(s.image, s.version);
    assert.deepEqual(tracker.everything(), { all: true, frames: [], sections: [], freeLists: true });
    assert.notEqual(tracker.totals(s.image, s.version), kept, 'counted again after a change not known in detail');
    const v = tracker.version;
    assert.equal(tracker.nothing().all, false);
    assert.deepEqual(tracker.lastChange.frames, []);
    assert.equal(tracker.version, v + 1);
    s.close();
  });
});
