import { strict as assert } from 'node:assert';
import { crc32 } from '../../src/engine/core/bytes';
import { encodedSize } from '../../src/engine/format/rangeList';
import { JH, JOURNAL_COMMITTED, journalChunks, peekJournal } from '../../src/engine/format/journal';
import { allocOp, check, MemoryStore, PmemImage, PAGE_SIZE } from '../../src/engine';
import { tornShapes, tornSpan, unitCount, WriteBackCacheStore } from '../../src/engine/store/writeBackCacheStore';
import { dataView, MiB, newImage, snapshot } from './helpers';

describe('write-back cache crash model', () => {
  it('cuts writes into aligned units; an aligned 8-byte word never tears', () => {
    assert.equal(unitCount(8, 8, 8), 1);
    assert.deepEqual(tornShapes(8, 8), [], 'one aligned word is atomic');
    assert.deepEqual(tornShapes(12, 4), [], 'inside one word');
    assert.equal(unitCount(4, 8, 8), 2, 'an unaligned word spans two');
    assert.equal(unitCount(0, 4096, 512), 8);
    assert.deepEqual(tornSpan(0, 128, { granularity: 8, side: 'prefix', units: 1 }), [0, 8]);
    assert.deepEqual(tornSpan(0, 128, { granularity: 8, side: 'suffix', units: 1 }), [120, 128]);
    assert.deepEqual(tornSpan(60, 10, { granularity: 64, side: 'prefix', units: 1 }), [0, 4], 'the first cache line ends at byte 64');
    // Shapes landing the same bytes at a coarser granularity (half of 4096 as 32 lines or 4 sectors) are listed once.
    const shapes = tornShapes(0, 4096).map((t) => `${t.side}${t.units}x${t.granularity}`);
    assert.ok(['prefix1x8', 'suffix1x8', 'prefix511x8', 'prefix256x8', 'prefix63x64', 'prefix1x512', 'suffix7x512'].every((s) => shapes.includes(s)), shapes.join(' '));
  });

  it('keeps earlier epochs durable and lands exactly the chosen writes of the crash epoch, later ones winning', () => {
    const cache = new WriteBackCacheStore(new MemoryStore(4096));
    cache.write(0, new Uint8Array(16).fill(1));
    cache.flush();
    cache.write(0, new Uint8Array(8).fill(2));
    cache.write(4, new Uint8Array(8).fill(3));
    assert.equal(cache.epochCount, 2);
    assert.deepEqual([...cache.read(0, 16)], [2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1], 'reads see every write at once');
    const bytes = (landings: Parameters<WriteBackCacheStore['crashImage']>[1]) => [...cache.crashImage(1, landings).read(0, 16)];
    assert.deepEqual(bytes([]), Array(16).fill(1));
    assert.deepEqual(bytes([{ index: 1 }]), [1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1], 'the later write alone');
    assert.deepEqual(bytes([{ index: 0 }, { index: 1 }]), [2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1]);
    assert.deepEqual(bytes([{ index: 0 }, { index: 1, torn: { granularity: 8, side: 'suffix', units: 1 } }]), [2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1], 'the torn later write wins only where it landed');
    assert.deepEqual([...cache.crashImage(0, []).read(0, 4)], [0, 0, 0, 0]);
  });

  it('cuts bulk ranges into journal-sized transactions that cover them exactly', () => {
    const ranges = [{ offset: 8192, data: new Uint8Array(1024).map((_, i) => i) }, { offset: 65536, data: new Uint8Array(320).fill(5) }];
    const parts = journalChunks(ranges, 256, 64);
    assert.ok(parts.length > 4);
    for (const p of parts) assert.ok(encodedSize(p) <= 256, `a part of ${encodedSize(p)} bytes`);
    for (const p of parts) for (const r of p) assert.ok(r.offset % 64 === 0 && r.data.length % 64 === 0, `a 64-byte record is never cut (${r.offset}+${r.data.length})`);
    assert.throws(() => journalChunks(ranges, 64, 64), /64-byte record does not fit the journal \(64 bytes\)/);
    const flat = new Map<number, number>();
    for (const p of parts) for (const r of p) r.data.forEach((b, i) => flat.set(r.offset + i, b));
    const want = new Map<number, number>();
    for (const r of ranges) r.data.forEach((b, i) => want.set(r.offset + i, b));
    assert.deepEqual(flat, want);
  });

  it('an image whose committed journal header carries the older whole-header checksum still recovers', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    const cache = new WriteBackCacheStore(store);
    img.store = cache;
    allocOp(img, { order: 3, owner: 'late' });
    const at = img.layout.journal.startPfn * PAGE_SIZE;
    let media: MemoryStore | undefined;
    for (let e = 1; e < cache.epochCount && !media; e++) {
      const m = cache.crashImage(e, []);
      if (peekJournal(m, img.layout.journal).state === JOURNAL_COMMITTED) media = m;
    }
    assert.ok(media, 'some epoch leaves the transaction committed');
    const header = media.read(at, 128);
    dataView(header).setUint32(JH.crc, crc32(header.subarray(0, JH.crc)), true);
    media.write(at, header);
    const reopened = PmemImage.open(media, {});
    assert.equal(reopened.bootReport?.recovery.action, 'rolled-forward');
    assert.ok(snapshot(reopened).allocated.some((b) => b.endsWith(':late')));
    assert.ok(check(reopened).ok);
  });
});
