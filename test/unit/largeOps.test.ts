/**
 * Operations larger than one journal transaction: all or nothing, one history
 * step, and completed by the next boot when a crash cuts them midway.
 */
import { strict as assert } from 'node:assert';
import { allocatedPfns, allocOp, allocOpAsync, check, firstAllocated, freedCount, freedPfns, freeOp, freeOwnerOp, freeOwnerOpAsync, initSectionsOp, OperationCancelled, PmemImage, PAGE_SIZE, sections } from '../../src/engine';
import { journalCapacity } from '../../src/engine/format/journal';
import { decodeIntent, encodeIntent, INTENT_SIZE, intentOffset } from '../../src/engine/format/intent';
import { assertSameState, MiB, newImage, snapshot, stampVersion, turnsBeforeFirstProgress } from './helpers';

const owned = (img: PmemImage, owner: string) => snapshot(img).allocated.filter((b) => b.endsWith(`:${owner}`)).length;

/**
 * Hands the lower half of the sections over: an allocation takes their free
 * blocks first, journaling a descriptor a frame (several transactions), then
 * hands over the rest, whose descriptors it writes in place.
 */
const initLowerHalf = (img: PmemImage) => initSectionsOp(img, [...Array(img.geometry.sectionCount / 2).keys()]);

describe('operations larger than one journal transaction', () => {
  it('allocates more blocks than one transaction holds, as one history step that cannot be stepped back over', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    assert.ok(journalCapacity(img.layout.journal) < 3000 * 64, 'the journal cannot hold 3000 descriptors');
    const steps = img.historyRecords().length;
    const r = allocOp(img, { order: 0, count: 3000, owner: 'many' });
    assert.equal(r.blocks.length, 3000);
    assert.equal(new Set(r.blocks.map((b) => b.pfn)).size, 3000);
    assert.equal(owned(img, 'many'), 3000);
    const records = img.historyRecords();
    assert.equal(records.length, steps + 1, 'one step for the whole operation');
    assert.match(records.at(-1)!.summary.text, /alloc order 0 x3000 for many/);
    assert.equal(records.at(-1)!.undoAvailable, false);
    assert.equal(img.pendingIntent(), undefined, 'the intent slot is clear once done');
    const report = check(img);
    assert.ok(report.ok, JSON.stringify(report.problems.slice(0, 3)));
  });

  it('refuses an allocation that cannot complete before writing anything, saying why', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    const before = store.clone();
    assert.throws(() => allocOp(img, { order: 0, count: 5000 }), /out of memory: no free block of order 0 .*nothing was changed/);
    assert.ok(store.sameContentAs(before), 'not a byte written');
  });

  // The larger counts take never-initialised sections whole (their descriptors written once, in place).
  for (const [order, count, options] of [
    [1, 300, {}], [0, 700, {}], [0, 900, { links: 'descriptor' as const }], [2, 100, { memmap: 'ram' as const }],
    [0, 2000, {}], [1, 900, { links: 'descriptor' as const }], [3, 200, {}], [0, 2000, { memmap: 'ram' as const }],
    [0, 2000, { nodes: 2 }], [0, 1500, { maxOrder: 8 }],
  ] as const) {
    it(`gives the same blocks and bytes as one allocation at a time would (order ${order} x${count}, ${JSON.stringify(options)})`, () => {
      const a = newImage({ sizeBytes: 16 * MiB, ...options });
      const b = newImage({ sizeBytes: 16 * MiB, ...options });
      allocOp(a.img, { order: 2, owner: 'x' });
      allocOp(b.img, { order: 2, owner: 'x' });
      const many = allocOp(a.img, { order, count, owner: 'y' }).blocks.map((x) => x.pfn);
      const one: number[] = [];
      for (let i = 0; i < count; i++) one.push(allocOp(b.img, { order, owner: 'y' }).blocks[0].pfn);
      assert.deepEqual(many, one);
      assert.deepEqual(snapshot(a.img), snapshot(b.img));
      // Byte for byte outside the journal and the history (which record the operations, not the state).
      assertSameState(a, b);
    });
  }

  for (const options of [{}, { links: 'descriptor' as const }, { memmap: 'ram' as const }]) {
    it(`frees an owner's blocks with the same bytes as freeing them one by one in pfn order (${JSON.stringify(options)})`, () => {
      const a = newImage({ sizeBytes: 16 * MiB, maxOrder: 8, ...options });
      const b = newImage({ sizeBytes: 16 * MiB, maxOrder: 8, ...options });
      for (const { img } of [a, b]) {
        allocOp(img, { order: 0, count: 700, owner: 'z' });
        allocOp(img, { order: 1, owner: 'keep' });
        allocOp(img, { order: 1, count: 90, owner: 'z' });
        allocOp(img, { order: 0, count: 5, owner: 'keep' });
        allocOp(img, { order: 0, count: 37, owner: 'z' });
      }
      const pfns = freeOwnerOp(a.img, 'z').freed.map((f) => f.pfn);
      assert.deepEqual(pfns, [...pfns].sort((x, y) => x - y));
      for (const pfn of pfns) freeOp(b.img, [pfn]);
      assert.deepEqual(snapshot(a.img), snapshot(b.img));
      assertSameState(a, b);
    });
  }

  for (const options of [{}, { memmap: 'ram' as const }]) {
    it(`finds an owner's blocks across never-initialised sections (${JSON.stringify(options)})`, () => {
      const { img } = newImage({ sizeBytes: 16 * MiB, ...options });
      initSectionsOp(img, [5]);
      const pfns = allocOp(img, { order: 0, count: 800, owner: 'gap' }).blocks.map((b) => b.pfn);
      assert.ok(pfns.some((p) => p >= 5 * 512) && sections(img).slice(2, 5).every((x) => x.state === 'never'), 'blocks on both sides of never-initialised sections');
      assert.deepEqual(freeOwnerOp(img, 'gap').freed.map((f) => f.pfn), [...pfns].sort((a, b) => a - b));
      assert.equal(owned(img, 'gap'), 0);
    });
  }

  it('frees every block of an owner, across transactions', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 0, count: 2500, owner: 'gone' });
    allocOp(img, { order: 1, count: 10, owner: 'kept' });
    const r = freeOwnerOp(img, 'gone');
    assert.equal(r.freed.length, 2500);
    assert.equal(owned(img, 'gone'), 0);
    assert.equal(owned(img, 'kept'), 10);
    assert.ok(check(img).ok);
    assert.throws(() => freeOwnerOp(img, 'gone'), /no allocated block has owner "gone"/);
  });

  for (const variant of [
    { name: 'memmap on device, half the sections initialised', options: {}, init: true },
    { name: 'memmap on device, no section initialised', options: {}, init: false },
    { name: 'memmap in RAM', options: { memmap: 'ram' as const }, init: false },
  ]) {
    it(`${variant.name}: a crash at any point leaves the allocation not begun or, after the next boot, done`, () => {
      const { store, img } = newImage({ sizeBytes: 16 * MiB, ...variant.options });
      if (variant.init) initLowerHalf(img);
      img.close();
      const probe = PmemImage.open(store.clone(), {});
      const { points } = probe.simulateCrash(1e6, (i) => void allocOp(i, { order: 0, count: 2000, owner: 'cut' }));
      let resumed = 0;
      let untouched = 0;
      for (let p = 0; p < points; p += Math.max(1, Math.floor(points / 40))) {
        const media = store.clone();
        const live = PmemImage.open(media, {});
        live.simulateCrash(p, (i) => void allocOp(i, { order: 0, count: 2000, owner: 'cut' }));
        const after = PmemImage.open(media, {});
        const n = owned(after, 'cut');
        const report = check(after);
        assert.ok(report.ok, `crash after ${p} points: ${JSON.stringify(report.problems.slice(0, 2))}`);
        if (after.bootReport?.resumed) {
          resumed++;
          assert.match(after.bootReport.resumed.text, /completed after a crash/);
        }
        if (n === 0) untouched++;
        else if (variant.options.memmap !== 'ram') assert.equal(n, 2000, `crash after ${p} points: ${n} blocks`);
        else assert.equal(snapshot(after).allocated.length >= 2000, true, `crash after ${p} points: the allocation finished`);
        assert.equal(after.pendingIntent(), undefined);
      }
      // With descriptors in RAM, or written in place while sections are handed over, the journal carries only the
      // free lists' changes: the allocation may fit one transaction.
      if (variant.init) assert.ok(resumed > 0, 'some crash fell between two transactions of the operation');
      assert.ok(untouched > 0, 'some crash fell before its first transaction');
    });
  }

  it('a boot completes an interrupted free of an owner', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 0, count: 2500, owner: 'half' });
    const { points } = PmemImage.open(store.clone(), {}).simulateCrash(1e6, (i) => void freeOwnerOp(i, 'half'));
    img.close();
    const media = store.clone();
    const live = PmemImage.open(media, {});
    live.simulateCrash(Math.floor(points / 2), (i) => void freeOwnerOp(i, 'half'));
    assert.ok(PmemImage.open(media.clone(), { readOnly: true }).pendingIntent(), 'the crash fell midway');
    const after = PmemImage.open(media, {});
    assert.match(after.bootReport?.resumed?.text ?? '', /free owner half: .*completed after a crash/);
    assert.equal(owned(after, 'half'), 0);
    assert.ok(check(after).ok);
  });

  it('a damaged intent slot stops a boot with what and where', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    img.close();
    const at = intentOffset(img.layout.history);
    const bytes = encodeIntent({ kind: 'alloc', order: 0, zone: 1, node: 0, strict: false, count: 10, done: 3, owner: 'x' });
    bytes[20] ^= 1;
    store.write(at, bytes);
    assert.throws(() => PmemImage.open(store, {}), (e: Error) => /operation intent checksum mismatch/.test(e.message) && /intent\.crc/.test(JSON.stringify(e)));
    assert.equal(decodeIntent(new Uint8Array(INTENT_SIZE), at), undefined);
  });
});

describe('format version 1 images', () => {
  it('open read-only as they are, and are upgraded by their first boot, which says so', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 3, owner: 'old' });
    img.close();
    stampVersion(store, 1);
    const ro = PmemImage.open(store, { readOnly: true });
    assert.equal(ro.sb.formatVersion, 1);
    assert.equal(owned(ro, 'old'), 1);
    const rw = PmemImage.open(store, {});
    assert.equal(rw.bootReport?.upgradedFrom, 1);
    assert.equal(rw.sb.formatVersion, 2);
    assert.match(rw.historyRecords().at(-1)!.summary.text, /format upgraded from version 1 to 2/);
    rw.close();
    assert.equal(PmemImage.open(store, { readOnly: true }).sb.formatVersion, 2);
    stampVersion(store, 3);
    assert.throws(() => PmemImage.open(store, { readOnly: true }), /format version 3 is not supported \(this build reads versions 1 and 2\)/);
  });
});

describe('large operations with progress and cancel', () => {
  it('yields to the event loop between transactions and reports progress that moves', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    initLowerHalf(img);
    const seen: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const r = await allocOpAsync(img, { order: 0, count: 3000, owner: 'async' }, { onProgress: (done, total) => { assert.equal(total, 3000); seen.push(done); } });
      assert.equal(r.blocks.length, 3000);
    } finally {
      clearInterval(timer);
    }
    assert.ok(seen.length > 1, 'more than one transaction');
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
    assert.equal(seen.at(-1), 3000);
    assert.ok(ticks > 0, 'timers ran while the allocation was under way');
    assert.equal(owned(img, 'async'), 3000);
  });

  it('gives the thread up before it counts the free memory and again before its first part', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    initLowerHalf(img);
    const turns = await turnsBeforeFirstProgress((onProgress) => allocOpAsync(img, { order: 0, count: 3000, owner: 'paused' }, { onProgress }));
    assert.ok(turns >= 2, `${turns} turns before the first part`);
  });

  it('a cancel before the first part changes nothing and says of how many blocks', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    initLowerHalf(img);
    const before = snapshot(img);
    await assert.rejects(allocOpAsync(img, { order: 0, count: 3000, owner: 'never' }, { cancelled: () => true }), (e: Error) => e instanceof OperationCancelled && /^allocation cancelled after 0 of 3000 blocks: rolled back/.test(e.message));
    assert.deepEqual(snapshot(img), before);
  });

  it('a free by owner cancelled before its scan found the blocks says so, not "0 of 0", and changes nothing', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 0, count: 2500, owner: 'unscanned' });
    const before = snapshot(img);
    const refusal = await freeOwnerOpAsync(img, 'unscanned', { cancelled: () => true }).then(() => undefined, (e: unknown) => e);
    assert.ok(refusal instanceof OperationCancelled, String(refusal));
    assert.equal(refusal.message, 'free cancelled before any of its blocks were found: rolled back, the image is as it was before');
    assert.equal(refusal.when, 'before any of its blocks were found');
    assert.deepEqual(snapshot(img), before);
  });

  it('a free by owner gives the thread up before it looks for the owner\'s blocks', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 0, count: 2500, owner: 'scan' });
    const turns = await turnsBeforeFirstProgress((onProgress) => freeOwnerOpAsync(img, 'scan', { onProgress }));
    assert.ok(turns >= 1, `${turns} turns before the first part`);
    assert.equal(owned(img, 'scan'), 0);
  });

  it('keeps a large result\'s blocks in typed arrays, made into objects only when read, and both agree', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    initLowerHalf(img);
    const large = await allocOpAsync(img, { order: 0, count: 3000, owner: 'run' });
    assert.ok(large.run, 'a large allocation keeps its run');
    const pfns = allocatedPfns(large);
    assert.equal(pfns.length, 3000);
    assert.deepEqual(large.blocks.map((b) => b.pfn), pfns);
    assert.deepEqual(firstAllocated(large), large.blocks[0]);
    assert.equal(large.blocks, large.blocks, 'made once');
    const small = allocOp(img, { order: 1, count: 2, owner: 'small' });
    assert.equal(small.run, undefined);
    assert.deepEqual(allocatedPfns(small), small.blocks.map((b) => b.pfn));
    assert.deepEqual(firstAllocated(small), small.blocks[0]);
    const freed = await freeOwnerOpAsync(img, 'run');
    assert.ok(freed.run, 'a large free keeps its run');
    assert.equal(freedCount(freed), 3000);
    assert.deepEqual(freedPfns(freed), freed.freed.map((f) => f.pfn));
    assert.deepEqual(new Set(freedPfns(freed)), new Set(pfns));
    const one = freeOp(img, [small.blocks[0].pfn]);
    assert.equal(freedCount(one), 1);
    assert.deepEqual(freedPfns(one), [small.blocks[0].pfn]);
  });

  it('gives the bytes of the same allocation run at once, whatever size the time gives its parts', async () => {
    const made = () => {
      const { store, img } = newImage({ sizeBytes: 256 * MiB });
      initLowerHalf(img);
      return { store, img };
    };
    const at = made();
    const sliced = made();
    allocOp(at.img, { order: 0, count: 40_000, owner: 'same' });
    let parts = 0;
    await allocOpAsync(sliced.img, { order: 0, count: 40_000, owner: 'same' }, { onProgress: () => parts++ });
    assert.ok(parts > 1, 'several parts');
    const L = at.img.layout;
    // Every byte but the journal and the history (the parts make other transactions and steps).
    for (const [from, to] of [[0, L.journal.startPfn * PAGE_SIZE], [(L.history.startPfn + L.history.frames) * PAGE_SIZE, at.store.size]]) {
      assert.ok(Buffer.compare(at.store.read(from, to - from), sliced.store.read(from, to - from)) === 0, `bytes ${from}..${to}`);
    }
  });

  for (const [reboot, cancelAfter] of [[false, 2], [true, 2], [false, 4]] as const) {
    const why = reboot ? ' (stale sections re-initialised on the way)' : cancelAfter > 2 ? ' (sections handed over on the way)' : '';
    it(`a cancel between transactions rolls back every one, and says so${why}`, async () => {
      let { store, img } = newImage({ sizeBytes: 16 * MiB });
      initLowerHalf(img);
      allocOp(img, { order: 2, owner: 'old' });
      if (reboot) {
        img.close();
        img = PmemImage.open(store, {});
      }
      const before = snapshot(img);
      const steps = img.historyRecords().length;
      const tables = () => {
        const L = img.layout;
        return ['sectionTable', 'freeArea'].map((n) => [...store.read(L[n as 'freeArea'].startPfn * PAGE_SIZE, L[n as 'freeArea'].frames * PAGE_SIZE)].join(','));
      };
      const tablesBefore = tables();
      let parts = 0;
      let handedOver = 0;
      await assert.rejects(
        allocOpAsync(img, { order: 0, count: 3000, owner: 'gone' }, { onProgress: () => { parts++; handedOver = snapshot(img).handedOver.length; }, cancelled: () => parts >= cancelAfter }),
        (e: Error) => e instanceof OperationCancelled && /allocation cancelled after \d+ of 3000 blocks: rolled back, the image is as it was before/.test(e.message),
      );
      assert.equal(parts, cancelAfter);
      assert.deepEqual(snapshot(img), before);
      if (cancelAfter > 2) assert.ok(handedOver > before.handedOver.length, 'a part handed sections over');
      assert.deepEqual(tables(), tablesBefore, 'section table and free-list heads byte for byte');
      assert.equal(img.historyRecords().length, steps, 'no step recorded');
      assert.equal(img.pendingIntent(), undefined);
      const report = check(img);
      assert.ok(report.ok, JSON.stringify(report.problems.slice(0, 3)));
      assert.equal(allocOp(img, { order: 0, count: 3000, owner: 'again' }).blocks.length, 3000, 'the image works on');
    });
  }

  it('a cancelled free by owner puts every block back', async () => {
    const { img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 0, count: 2500, owner: 'stay' });
    const before = snapshot(img);
    let parts = 0;
    await assert.rejects(freeOwnerOpAsync(img, 'stay', { onProgress: () => parts++, cancelled: () => parts >= 1 }), OperationCancelled);
    assert.deepEqual(snapshot(img), before);
    assert.ok(check(img).ok);
  });
});
