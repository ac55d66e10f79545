/**
 * Deferred write-back (image/deferredHome.ts): operations held in RAM are
 * durable by their history records alone; every open redoes what a crash
 * left after the history's tail, read-only opens included, and refuses a
 * record it cannot redo, naming it, before writing anything.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, check, freeOp, ImageError, initAllOp, initSectionsOp, MemoryStore, PmemImage, sections, stateAt } from '../../src/engine';
import { DESC, PG_ALLOCATED, PG_BUDDY } from '../../src/engine/format/descriptor';
import { DEFERRED_RECORD_BOUND, deferHomeWrites } from '../../src/engine/image/deferredHome';
import { fastLane } from '../../src/engine/image/ops';
import { StoreWrapper } from '../../src/engine/store/storeWrapper';
import { pmem } from './cliRun';
import { MiB, newImage, rng, snapshot } from './helpers';
import { crc32 } from '../../src/engine/core/bytes';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../../src/engine/format/constants';
import { CHECKPOINT_SPAN } from '../../src/engine/format/history';

/**
 * A checksum of the structures the allocator writes: the section table, the
 * free-list heads, the descriptors of every section initialised at some time
 * (a never-initialised one's mean nothing: their initialisation is kept out
 * of the history) and the free blocks' link records.
 */
function structureBytes(img: PmemImage): number {
  let sum = 0;
  for (const region of [img.layout.sectionTable, img.layout.freeArea]) sum = crc32(img.store.read(region.startPfn * PAGE_SIZE, region.frames * PAGE_SIZE), sum);
  for (const s of sections(img)) if (s.state !== 'never') sum = crc32(img.store.read(img.memmapOffset(s.firstPfn), s.frames * DESCRIPTOR_SIZE), sum);
  for (const b of snapshot(img).free) sum = crc32(img.store.read(Number(b.split(':')[0]) * PAGE_SIZE, 48), sum);
  return sum;
}

/** An image whose last `count` operations were held when the power failed: the image object is dropped, the store kept. */
function crashedWithHeld(count: number): { store: MemoryStore; pfns: number[]; before: ReturnType<typeof snapshot>; steps: number; held: number } {
  const { store, img } = newImage({ sizeBytes: 32 * MiB });
  initAllOp(img);
  const before = snapshot(img);
  const steps = img.history.readHeader(store).nextSeq;
  deferHomeWrites(img, true);
  const held = fastLane.deferred;
  const pfns: number[] = [];
  for (let i = 0; i < count; i++) pfns.push(allocOp(img, { order: i % 3, owner: `held-${i}` }).blocks[0].pfn);
  assert.equal(fastLane.deferred - held, count, 'every operation was held');
  // Write-backs may have come in between (a small image's journal takes few structures): the last ones are still held.
  const stillHeld = steps + count - img.history.readHeader(store).nextSeq;
  assert.ok(stillHeld > 0 && stillHeld <= count, `${stillHeld} held`);
  return { store, pfns, before, steps, held: stillHeld };
}

describe('deferred write-back', () => {
  it('an open after a power failure redoes the held operations, in order, with their steps', () => {
    const { store, pfns, before, steps, held } = crashedWithHeld(40);
    const img = PmemImage.open(store, {});
    assert.equal(img.redone, held);
    const after = snapshot(img);
    for (let i = 0; i < pfns.length; i++) assert.ok(after.allocated.includes(`${pfns[i]}:${i % 3}:held-${i}`), `block ${pfns[i]} of step ${steps + i} is back`);
    assert.deepEqual(check(img).problems, []);
    const texts = img.historyRecords().filter((r) => r.seq >= steps).map((r) => r.summary.text);
    assert.match(texts[0], /^alloc order 0 for held-0 → pfn /);
    assert.match(texts[40], new RegExp(`^boot 2 \\(after crash, profile default\\); ${held} operations committed but not written back redone$`), 'the boot comes after every redone step, and says so');
    // Stepping back over them gives the state before them.
    assert.deepEqual(snapshot(stateAt(img, steps - 1)), before);
    img.close();
    assert.equal(PmemImage.open(store, {}).redone, 0, 'written back: nothing to redo twice');
  });

  it('a read-only open shows the redone operations and writes nothing', () => {
    const { store, pfns } = crashedWithHeld(5);
    const bytes = store.read(0, store.size).slice();
    const viewed = PmemImage.open(store, { readOnly: true });
    assert.equal(viewed.redone, 5);
    assert.ok(snapshot(viewed).allocated.some((b) => b.startsWith(`${pfns[4]}:`)));
    assert.deepEqual(check(viewed).problems, []);
    assert.deepEqual(store.read(0, store.size), bytes, 'nothing written');
  });

  it('pmem says on stderr that it shows held operations redone, and the next writable command writes them back', () => {
    const { store, pfns } = crashedWithHeld(5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-held-'));
    try {
      const file = path.join(dir, 'held.pmem');
      fs.writeFileSync(file, store.read(0, store.size));
      const shown = pmem('descriptors', file, '--from', String(pfns[4]), '--count', '1', '--json');
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stderr, `pmem: warning: ${file}: 5 operations committed before a power failure but not written back are shown redone; the next writable open writes them back.\n`);
      assert.match(shown.stdout, /held-4/);
      // A usage error is judged before the image is opened: one line, without the open's warning.
      for (const [argv, error] of [
        [['state', file], /^pmem state: state: --at STEP is required\n$/],
        [['frag', file, '--only', 'nothing'], /^pmem frag: --only must be one of .*, not "nothing"\n$/],
        [['frag', file, '--samples', '4'], /^pmem frag: --samples goes with --history\n$/],
        [['descriptors', file, '--from', 'x'], /^pmem descriptors: .*--from.*\n$/],
      ] as Array<[string[], RegExp]>) {
        const r = pmem(...argv);
        assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, error, argv.join(' '));
      }
      assert.equal(pmem('reboot', file).code, 0);
      const after = pmem('history', file);
      assert.match(after.stdout, /boot 2 \(after crash, profile default\); 5 operations committed but not written back redone/);
      assert.equal(after.stderr, '', 'written back: nothing to redo any more');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an open whose held record cannot be redone, naming the step and why, before writing anything', () => {
    const { store, pfns, steps } = crashedWithHeld(3);
    // Damage: the block the first record names is marked allocated on the device while still at the head of its list.
    const img0 = PmemImage.open(store, { readOnly: true });
    const at = img0.memmapOffset(pfns[0]);
    const d = store.read(at, 64);
    d[DESC.flags] = (d[DESC.flags] & ~PG_BUDDY) | PG_ALLOCATED;
    store.write(at, d);
    const bytes = store.read(0, store.size).slice();
    const ringAt = img0.layout.history.startPfn * 4096 + 4096 + img0.history.readHeader(store).tail;
    assert.throws(() => PmemImage.open(store, {}), (e: unknown) => e instanceof ImageError && e.location.offset === ringAt && e.location.field === 'historyRecord'
      && new RegExp(`step ${steps} \\(alloc order 0 for held-0 → pfn ${pfns[0]}, node 0 DMA32\\) was committed but not written back, and cannot be redone: the allocator cannot take a block from that list`).test(e.message));
    assert.deepEqual(store.read(0, store.size), bytes, 'nothing written');
    // A lenient read-only open still shows the image, with the reason as a warning.
    const lenient = PmemImage.open(store, { readOnly: true, lenient: true });
    assert.equal(lenient.redone, 0);
    assert.ok(lenient.warnings.some((w) => w.includes(`step ${steps}`)), lenient.warnings.join('; '));
  });

  it('holds frees too; reading the image any other way writes back first', () => {
    const { store, img } = newImage({ sizeBytes: 32 * MiB });
    initAllOp(img);
    deferHomeWrites(img, true);
    const pfns = Array.from({ length: 20 }, () => allocOp(img, { order: 0, owner: 'x' }).blocks[0].pfn);
    for (const p of pfns.slice(0, 10)) freeOp(img, [p]);
    const header = img.history.readHeader(img.storeAsIs);
    assert.ok(img.deferred?.pending, 'operations are held');
    const view = snapshot(img); // reads through img.store
    assert.equal(img.deferred?.pending, false, 'reading wrote them back');
    assert.equal(img.history.readHeader(store).nextSeq, header.nextSeq + 30);
    assert.equal(view.allocated.filter((b) => b.endsWith(':x')).length, 10);
    assert.deepEqual(check(img).problems, []);
  });

  it('steps back over held operations byte for byte, through the checkpoints their write-backs gathered bytes for', () => {
    const { img } = newImage({ sizeBytes: 64 * MiB });
    deferHomeWrites(img, true);
    const random = rng(7);
    const live: number[] = [];
    const seen = new Map<number, { state: ReturnType<typeof snapshot>; bytes: number }>();
    const held = fastLane.deferred;
    const operations = 5000;
    for (let i = 0; i < operations; i++) {
      if (live.length > 200 && random() < 0.45) freeOp(img, [live.splice(Math.floor(random() * live.length), 1)[0]]);
      else live.push(allocOp(img, { order: Math.floor(random() * 3), owner: `o${i % 5}` }).blocks[0].pfn);
      // Now and then (each look writes back what is held): the state after this step.
      if (i % 311 === 0) seen.set(img.history.readHeader(img.store).nextSeq - 1, { state: snapshot(img), bytes: structureBytes(img) });
    }
    assert.ok(fastLane.deferred - held > operations * 0.9, `${fastLane.deferred - held} of ${operations} operations held`);
    const last = img.history.readHeader(img.store).nextSeq - 1;
    const checkpoints = img.historyRecords().filter((r) => r.seq % CHECKPOINT_SPAN === 0 && r.seq > Math.min(...seen.keys())).length;
    assert.ok(checkpoints >= 2, `${checkpoints} checkpoint steps among them`);
    for (const [step, expected] of seen) {
      const then = stateAt(img, step);
      assert.deepEqual(snapshot(then), expected.state, `step ${step} of ${last}`);
      assert.equal(structureBytes(then), expected.bytes, `step ${step}: the section table, free-list heads, memmap and link records byte for byte`);
    }
  });

  it('keeps holding operations once the history is full: with nothing held, a write-back still evicts room for the next records', () => {
    // The smallest ring, full after the first round; sections handed over as the allocations reach them, so some
    // frees take the usual path (their inverse would hand a section over), each leaving the ring with no room to spare.
    const { img } = newImage({ sizeBytes: 64 * MiB, historyBytes: 64 * 1024 });
    deferHomeWrites(img, true);
    const rounds = 3;
    const count = 3000;
    for (let round = 0; round < rounds; round++) {
      const pfns: number[] = [];
      const before = fastLane.deferred;
      for (let i = 0; i < count; i++) pfns.push(allocOp(img, { order: 0, owner: `r${round}` }).blocks[0].pfn);
      const allocsHeld = fastLane.deferred - before;
      // The usual path takes only an allocation that hands a section over (one in 512) or whose step is due a checkpoint (one in 2048).
      assert.ok(allocsHeld >= count - 12, `round ${round}: ${allocsHeld} of ${count} allocations held`);
      const beforeFrees = fastLane.deferred;
      for (const p of pfns) freeOp(img, [p]);
      const freesHeld = fastLane.deferred - beforeFrees;
      assert.ok(freesHeld >= 0.75 * count, `round ${round}: ${freesHeld} of ${count} frees held`);
    }
    assert.ok(img.history.readHeader(img.storeAsIs).firstSeq > 2 * count, 'the ring was full: the oldest records were evicted');
    deferHomeWrites(img, false);
    assert.deepEqual(check(img).problems, []);
  });

  it('a held record of the largest kind (a 16-byte owner, pfns past 2^27, the second node) stays within the room kept for one', () => {
    const { store, img } = newImage({ sizeBytes: 2 ** 40, nodes: 2, maxOrder: 10 });
    const owner = 'ŝlab-ĉache-012'; // 16 bytes of UTF-8
    const first = allocOp(img, { order: 0, node: 1, owner }).blocks[0].pfn; // hands the section over (the usual path)
    // A free's inverse (an exact allocation) needs every section of its largest block initialised.
    const top = first - (first % 2 ** img.geometry.maxOrder);
    initSectionsOp(img, [top / img.geometry.sectionFrames, (top + 2 ** img.geometry.maxOrder - 1) / img.geometry.sectionFrames].map(Math.floor).filter((x, i, a) => a.indexOf(x) === i));
    deferHomeWrites(img, true);
    const pfns = [0, 1, 2, 3].map(() => allocOp(img, { order: 0, node: 1, owner }).blocks[0].pfn);
    freeOp(img, [pfns[3]]); // its buddy is allocated: no merge
    assert.ok(pfns[3] > 2 ** 27, `pfn ${pfns[3]}`);
    const gen = img.bootGeneration;
    img.deferred?.drop(); // a power cut
    const found = img.history.deferredRecords(store, gen);
    assert.ok(found.records.some((r) => r.kind === 'alloc') && found.records.some((r) => r.kind === 'free'), found.records.map((r) => r.summary.text).join('; '));
    const ends = [...found.offsets.slice(1), img.layout.history.startPfn * 4096 + 4096 + found.header.tail];
    const sizes = found.offsets.map((at, i) => ends[i] - at);
    assert.ok(sizes.every((n) => n > 20 && n <= DEFERRED_RECORD_BOUND), `record sizes ${sizes}`);
  });

  it('a write-back that fails (an I/O error) stops the image; the next open redoes what it held', () => {
    const { store, img } = newImage({ sizeBytes: 32 * MiB });
    initAllOp(img);
    let failing = false;
    img.store = new (class extends StoreWrapper {
      override write(offset: number, data: Uint8Array): void {
        if (failing) throw new Error('EIO: i/o error, write');
        super.write(offset, data);
      }
    })(store);
    deferHomeWrites(img, true);
    const pfns = Array.from({ length: 5 }, () => allocOp(img, { order: 0, owner: 'eio' }).blocks[0].pfn);
    failing = true;
    assert.throws(() => deferHomeWrites(img, false), /EIO/);
    assert.throws(() => allocOp(img, { order: 0 }), /reopen the image/);
    const again = PmemImage.open(store, {});
    assert.equal(again.redone, 5);
    for (const p of pfns) assert.ok(snapshot(again).allocated.includes(`${p}:0:eio`));
    assert.deepEqual(check(again).problems, []);
  });

  it('is not offered with the memmap in RAM, nor on an image an earlier build left at a lower revision', () => {
    const ram = newImage({ memmap: 'ram' });
    deferHomeWrites(ram.img, true);
    assert.equal(ram.img.deferred, undefined);
    const { img } = newImage();
    img.sb = { ...img.sb, formatRevision: 2 };
    assert.throws(() => deferHomeWrites(img, true), /deferred write-back needs format revision 3 \(the image is at 2\)/);
  });
});
