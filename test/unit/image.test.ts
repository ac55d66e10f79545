import { strict as assert } from 'node:assert';
import { allocOp, describeSuperblockChoice, ImageError, superblockEditorWarning, info, MemoryStore, PmemImage, sections, UsageError, frames, PAGE_SIZE } from '../../src/engine';
import { SB } from '../../src/engine/format/superblock';
import { GiB, MiB, newImage, stampRevision } from './helpers';

describe('image: create and open', () => {
  for (const memmap of ['device', 'ram'] as const) {
    for (const sectionBytes of [2 * MiB, GiB]) {
      it(`creates and reopens an image with memmap on ${memmap}, ${sectionBytes / MiB} MiB sections`, () => {
        const sizeBytes = sectionBytes === GiB ? 2 * GiB : 64 * MiB;
        const { store, img } = newImage({ sizeBytes, sectionBytes, memmap });
        const i = info(img);
        assert.equal(i.memmap.placement, memmap);
        assert.equal(i.sections.sizeBytes, sectionBytes);
        assert.equal(i.sections.count, sizeBytes / sectionBytes);
        assert.equal(i.frames.free + i.frames.allocated + i.frames.uninitialized + i.frames.reserved, i.totalFrames);
        assert.equal(i.frames.free, 0, 'nothing is handed to the allocator before first use');
        assert.equal(i.memmap.bytes, memmap === 'device' ? i.totalFrames * 64 : 0);
        assert.equal(i.bootGeneration, 1, 'a writable open is a boot');
        img.close();
        const again = PmemImage.open(store, { readOnly: true });
        assert.equal(info(again).bootGeneration, 1);
        assert.equal(info(again).clean, true);
      });
    }
  }

  it('is sparse: a fresh 1 TiB image in memory holds only a few MiB', () => {
    const store = new MemoryStore(2 ** 40);
    const img = PmemImage.create(store, { sizeBytes: 2 ** 40 });
    assert.ok(store.residentBytes < 4 * MiB, `resident ${store.residentBytes}`);
    assert.equal(info(img).totalFrames, 2 ** 28);
    assert.equal(info(img).memmap.bytes, 16 * GiB, '16 GiB of descriptors per TiB');
  });

  it('describes several nodes with DMA32, Normal and Movable zones', () => {
    const { img } = newImage({ sizeBytes: 16 * GiB, nodes: 2, movablePercent: 25 });
    const i = info(img);
    assert.deepEqual(i.nodes.map((n) => n.zones.map((z) => z.name)), [['DMA32', 'Normal', 'Movable'], ['Normal', 'Movable']]);
    assert.equal(i.nodes[1].firstPfn, 8 * GiB / PAGE_SIZE);
  });

  it('refuses an operation on the image create returns, never booted, saying to open it first, and writes nothing', () => {
    const store = new MemoryStore(32 * MiB);
    const created = PmemImage.create(store, { sizeBytes: 32 * MiB });
    const before = store.read(0, store.size).slice();
    assert.throws(() => allocOp(created, { order: 0 }), (e: unknown) => e instanceof UsageError && /never been booted: open it/.test(e.message));
    assert.deepEqual(store.read(0, store.size), before, 'nothing written');
    assert.equal(allocOp(PmemImage.open(store), { order: 0 }).blocks.length, 1, 'once opened (booted), it allocates');
  });

  it('opens an image of a newer format revision read-only, saying why, and never writes it', () => {
    const { store, img } = newImage();
    img.close();
    stampRevision(store, 5);
    const before = store.read(0, store.size).slice();
    const viewed = PmemImage.open(store, { readOnly: true });
    assert.equal(info(viewed).formatRevision, 5);
    assert.match(info(viewed).writeRefusal ?? '', /newer revision of the format \(2\.5; this build writes 2\.4\)/);
    assert.throws(() => PmemImage.open(store, {}), (e: unknown) => e instanceof ImageError && /only be opened read-only/.test(e.message) && e.location.field === 'superblock.formatRevision');
    assert.deepEqual(store.read(0, store.size), before, 'nothing written');
    stampRevision(store, 0);
    assert.equal(info(PmemImage.open(store, { readOnly: true })).writeRefusal, undefined);
  });

  it('opens from the backup superblock when the primary is corrupt, and fails when both are', () => {
    const { store, img } = newImage();
    img.close();
    const primary = store.read(0, PAGE_SIZE);
    store.write(SB.bootGeneration, new Uint8Array([0xee]));
    const viaBackup = PmemImage.open(store, { readOnly: true });
    assert.equal(info(viaBackup).bootGeneration, 1);
    const backupAt = store.size - PAGE_SIZE;
    store.write(backupAt + SB.magic, new TextEncoder().encode('XXXXXXXX'));
    assert.throws(() => PmemImage.open(store, { readOnly: true, file: 'img.pmem' }), (e: ImageError) => e instanceof ImageError && /img\.pmem/.test(e.message) && /checksum/.test(e.message));
    store.write(0, primary);
    assert.equal(info(PmemImage.open(store, { readOnly: true })).bootGeneration, 1, 'a valid primary alone suffices');
  });

  it('says which superblock copy it opened from and why the other was passed over', () => {
    const { store, img } = newImage();
    img.close();
    const backupAt = store.size - PAGE_SIZE;
    const clean = PmemImage.open(store, { readOnly: true });
    assert.deepEqual(clean.superblockChoice, { used: 'primary', usedOffset: 0 });
    assert.equal(describeSuperblockChoice(clean.superblockChoice), undefined);
    assert.equal(superblockEditorWarning('a.pmem', clean.superblockChoice, true), undefined);

    const primary = store.read(0, PAGE_SIZE).slice();
    store.write(SB.bootGeneration, new Uint8Array([0xee]));
    for (const readOnly of [true, false]) {
      const viaBackup = PmemImage.open(store, { readOnly });
      assert.deepEqual(viaBackup.superblockChoice, {
        used: 'backup', usedOffset: backupAt, rejected: { copy: 'primary', offset: 0, faultOffset: SB.crc, reason: 'superblock checksum mismatch' },
      });
      assert.equal(describeSuperblockChoice(viaBackup.superblockChoice), `primary superblock at byte 0 damaged (superblock checksum mismatch at byte ${SB.crc}); opened from the backup copy at byte ${backupAt}`);
      assert.equal(superblockEditorWarning('a.pmem', viaBackup.superblockChoice, true), `a.pmem: primary superblock at byte 0 damaged (superblock checksum mismatch at byte ${SB.crc}); opened from the backup copy at byte ${backupAt}. Repair reboots the simulated machine, which rewrites both copies (undoable; saved with the image).`);
      assert.match(superblockEditorWarning('a.pmem', viaBackup.superblockChoice, false)!, /\. Run `pmem reboot FILE` to rewrite both copies\.$/);
      if (!readOnly) viaBackup.close();
    }
    // The writable open (a boot) rewrote both copies.
    assert.deepEqual(PmemImage.open(store, { readOnly: true }).superblockChoice, { used: 'primary', usedOffset: 0 });

    store.write(backupAt + SB.magic, new TextEncoder().encode('XXXXXXXX'));
    const viaPrimary = PmemImage.open(store, { readOnly: true });
    assert.equal(viaPrimary.superblockChoice.used, 'primary');
    assert.equal(viaPrimary.superblockChoice.rejected?.copy, 'backup');
    assert.equal(viaPrimary.superblockChoice.rejected?.faultOffset, backupAt + SB.magic);
    assert.match(describeSuperblockChoice(viaPrimary.superblockChoice)!, new RegExp(`^backup superblock at byte ${backupAt} damaged \\(not a pmem image .* at byte ${backupAt}\\); opened from the primary copy at byte 0$`));

    // A valid but older copy: the newer one wins and the older is named.
    store.write(backupAt, primary);
    const older = PmemImage.open(store, { readOnly: true });
    assert.equal(older.superblockChoice.used, 'primary');
    assert.match(describeSuperblockChoice(older.superblockChoice)!, /^backup superblock at byte \d+ out of date \(update 3, the other copy has 5\); opened from the primary copy at byte 0$/);
  });

  it('rejects truncated and foreign stores with what and where', () => {
    const { store, img } = newImage();
    img.close();
    const truncated = new MemoryStore(32 * MiB);
    truncated.write(0, store.read(0, 16 * MiB));
    assert.throws(() => PmemImage.open(truncated, { readOnly: true, file: 'cut.pmem' }), /truncated: the superblock says 67108864 bytes but the file has 33554432/);
    const foreign = new MemoryStore(64 * MiB);
    foreign.write(0, new TextEncoder().encode('#!/bin/sh\necho hello\n'));
    assert.throws(() => PmemImage.open(foreign, { readOnly: true }), /not a pmem image/);
    assert.throws(() => PmemImage.open(new MemoryStore(100), { readOnly: true }), /too small/);
  });

  it('rejects a corrupt section table before writing anything', () => {
    const { store, img } = newImage();
    img.close();
    const at = img.layout.sectionTable.startPfn * PAGE_SIZE + 3 * 16;
    store.write(at + 4, new Uint8Array([0xff, 0xff, 0, 0]));
    const before = store.clone();
    assert.throws(() => PmemImage.open(store, {}), (e: ImageError) => e instanceof ImageError && e.location.section === 3 && e.location.offset === at + 4);
    assert.ok(store.sameContentAs(before), 'the failed open wrote nothing');
  });

  it('never writes on a read-only open, even with a pending journal', () => {
    const { store, img } = newImage();
    img.close();
    const writes = store.writes;
    const ro = PmemImage.open(store, { readOnly: true });
    sections(ro);
    frames(ro, 0, 1000);
    assert.equal(store.writes, writes);
    assert.throws(() => ro.shutdown(), UsageError);
  });

  it('refuses a profile on a read-only open and unknown profiles on boot', () => {
    const { store, img } = newImage();
    img.close();
    assert.throws(() => PmemImage.open(store, { readOnly: true, profile: 'debug' }), UsageError);
    assert.throws(() => PmemImage.open(store, { profile: 'nope' }), /unknown kernel profile/);
  });
});
