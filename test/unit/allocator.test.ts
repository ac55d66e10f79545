import { strict as assert } from 'node:assert';
import { allocOp, check, frames, freeLists, freeOp, info, initSectionsOp, OperationError, PmemImage, sections, UsageError, PAGE_SIZE, buddyinfo } from '../../src/engine';
import { decodeFreeLink } from '../../src/engine/format/freeLink';
import { checkDescriptorBytes, decodeDescriptor, encodeDescriptor, isBlank, PG_ALLOCATED, PG_BUDDY, PG_FREEING } from '../../src/engine/format/descriptor';
import { crc32 } from '../../src/engine/core/bytes';
import { freshSectionDescriptors } from '../../src/engine/alloc/sectionInit';
import { GiB, MiB, newImage, snapshot } from './helpers';

const listCount = (img: PmemImage, order: number, node = 0, zone = 'DMA32') => freeLists(img, 0).find((l) => l.node === node && l.zone === zone && l.order === order)!.count;

for (const links of ['page', 'descriptor'] as const) {
  describe(`buddy allocator (links in ${links})`, () => {
    it('hands a section to the allocator on first use and takes the smallest sufficient block', () => {
      const { img } = newImage({ links });
      const first = img.layout.data.startPfn;
      const s = Math.floor(first / img.geometry.sectionFrames); // the first section with data frames
      const r = allocOp(img, { order: 0 });
      assert.deepEqual(r.initialisedSections, [s], `lazy init reached section ${s}`);
      assert.equal(sections(img)[s].state, 'initialized');
      assert.equal(sections(img)[s + 1].state, 'never');
      assert.equal(r.blocks[0].pfn, first, 'the order-0 block at the unaligned start of data is the smallest');
      assert.ok(check(img).ok);
    });

    it('splits a block into buddies and merges them back in either freeing order', () => {
      for (const order of [[0, 1], [1, 0]]) {
        const { img } = newImage({ links, sizeBytes: 8 * MiB, maxOrder: 9 });
        // Section 1 is whole data: one order-9 block.
        initSectionsOp(img, [1]);
        const s1 = 512;
        assert.equal(listCount(img, 9), 1);
        const a = allocOp(img, { order: 3, node: 0 });
        const b = allocOp(img, { order: 3, node: 0 });
        const pfns = [a.blocks[0].pfn, b.blocks[0].pfn];
        const base = Math.min(...pfns);
        assert.equal(pfns[0] ^ pfns[1], 8, 'the two blocks are buddies');
        assert.ok(base >= s1 || base < s1);
        freeOp(img, [pfns[order[0]]]);
        assert.ok(check(img).ok);
        freeOp(img, [pfns[order[1]]]);
        assert.ok(check(img).ok);
        assert.deepEqual(snapshot(img).allocated, []);
      }
    });

    it('merges all the way back to the original blocks after many allocations', () => {
      const { img } = newImage({ links });
      const before = snapshot(initAll(img));
      const got = [0, 3, 1, 5, 2, 0, 4].map((order) => allocOp(img, { order }).blocks[0]);
      assert.ok(check(img).ok);
      for (const b of [...got].reverse()) freeOp(img, [b.pfn]);
      assert.deepEqual(snapshot(img), before);
      assert.ok(check(img).ok);
    });

    it('never merges across node boundaries', () => {
      const { img } = newImage({ links, sizeBytes: 16 * MiB, nodes: 2, maxOrder: 12 });
      initAll(img);
      // Node 1 starts at pfn 2048: an order-11 block [2048, 4096) would be the buddy of [0, 2048) at order 11.
      for (const l of freeLists(img, 100)) for (const pfn of l.blocks) {
        const n = img.nodes[l.node];
        assert.ok(pfn >= n.firstPfn && pfn + 2 ** l.order <= n.firstPfn + n.frames, `block ${pfn} order ${l.order} stays inside node ${l.node}`);
      }
      assert.equal(listCount(img, 12, 0), 0, 'no order-12 block spans both nodes');
      assert.ok(check(img).ok);
    });

    it('never merges across zone boundaries', () => {
      const { img } = newImage({ links, sizeBytes: 32 * MiB, movablePercent: 50, maxOrder: 13 });
      initAll(img);
      const z = img.nodes[0].zones;
      for (const l of freeLists(img, 100)) for (const pfn of l.blocks) {
        const zone = z.find((x) => x.frames > 0 && pfn >= x.firstPfn && pfn < x.firstPfn + x.frames)!;
        assert.ok(pfn + 2 ** l.order <= zone.firstPfn + zone.frames, `block ${pfn} order ${l.order} crosses out of its zone`);
      }
      assert.ok(check(img).ok);
    });

    it('never puts metadata or memmap frames in a free list', () => {
      const { img } = newImage({ links });
      initAll(img);
      for (const l of freeLists(img, 10_000)) for (const pfn of l.blocks) assert.ok(pfn >= img.layout.data.startPfn && pfn + 2 ** l.order <= img.layout.backupSuperblock.startPfn);
    });

    it('respects the zone limit, node preference, strict mode, and fails cleanly when out of memory', () => {
      const { img } = newImage({ links, sizeBytes: 16 * MiB, nodes: 2, movablePercent: 50 });
      const movable = allocOp(img, { order: 0, zone: 'movable' });
      assert.equal(movable.blocks[0].zone, 2);
      const onNode1 = allocOp(img, { order: 0, node: 1 });
      assert.equal(onNode1.blocks[0].node, 1);
      // Node 1 holds 2048 frames; ask strictly for more (300 blocks of 8 frames).
      assert.throws(() => allocOp(img, { order: 3, node: 1, strict: true, count: 300 }), (e: Error) => e instanceof OperationError && /out of memory/.test(e.message));
      const before = snapshot(img);
      assert.throws(() => allocOp(img, { order: 10, count: 100 }), OperationError);
      assert.deepEqual(snapshot(img), before, 'a failed allocation changes nothing');
      assert.ok(check(img).ok);
    });

    it('validates requests and frees with clear errors', () => {
      const { img } = newImage({ links });
      const a = allocOp(img, { order: 2 }).blocks[0].pfn;
      assert.throws(() => allocOp(img, { order: 11 }), /order must be 0 to 10/);
      assert.throws(() => allocOp(img, { order: 0, node: 3 }), /node must be 0 to 0/);
      assert.throws(() => allocOp(img, { order: 0, zone: 'highmem' as never }), /zone must be/);
      assert.throws(() => freeOp(img, [a + 1]), /inside the allocated block at pfn/);
      assert.throws(() => freeOp(img, [3]), UsageError);
      assert.throws(() => freeOp(img, [a, a]), /twice/);
      freeOp(img, [a]);
      assert.throws(() => freeOp(img, [a]), /already free/);
    });
  });
}

function initAll(img: PmemImage): PmemImage {
  initSectionsOp(img, sections(img).map((s) => s.index));
  return img;
}

describe('free-list links live in the free pages', () => {
  it('stores next/prev/order/magic in the first bytes of each free block on the device', () => {
    const { store, img } = newImage({ links: 'page' });
    initAll(img);
    const lists = freeLists(img, 1000).filter((l) => l.count > 1);
    assert.ok(lists.length > 0);
    for (const l of lists) {
      for (let i = 0; i < l.blocks.length; i++) {
        const raw = store.read(l.blocks[i] * PAGE_SIZE, 48);
        assert.equal(new TextDecoder().decode(raw.subarray(0, 8)), 'PMEMFREE');
        const link = decodeFreeLink(raw);
        assert.ok(link.ok);
        assert.equal(link.link.order, l.order);
        assert.equal(link.link.next, l.blocks[i + 1] ?? 0);
        assert.equal(link.link.prev, l.blocks[i - 1] ?? 0);
      }
    }
    // ... and the head descriptors only carry the free marker and order.
    const head = lists[0].blocks[0];
    const d = decodeDescriptor(store.read(img.memmapOffset(head), 64));
    assert.ok(d.flags & PG_BUDDY);
    assert.equal(d.next, 0, 'no links in the descriptor');
  });

  it('erases the link record when a block is allocated', () => {
    const { store, img } = newImage({ links: 'page' });
    const pfn = allocOp(img, { order: 4 }).blocks[0].pfn;
    assert.equal(decodeFreeLink(store.read(pfn * PAGE_SIZE, 48)).ok, false);
  });

  it('with links in descriptors, the free pages stay untouched', () => {
    const { store, img } = newImage({ links: 'descriptor' });
    initAll(img);
    const l = freeLists(img, 10).find((x) => x.count > 1)!;
    assert.ok(store.read(l.blocks[0] * PAGE_SIZE, 48).every((b) => b === 0));
    assert.equal(decodeDescriptor(store.read(img.memmapOffset(l.blocks[0]), 64)).next, l.blocks[1]);
  });
});

describe('lazy init, reboots and profiles', () => {
  it('marks initialised sections stale on reboot and re-initialises them on use', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    const a = allocOp(img, { order: 0, owner: 'dax' }).blocks[0].pfn;
    img.close();
    const booted = PmemImage.open(store, {});
    assert.equal(sections(booted)[0].state, 'stale');
    const f = frames(booted, a, 1)[0];
    assert.equal(f.kind, 'allocated', 'persistent facts survive');
    assert.equal(f.owner, 'dax');
    assert.equal(f.initGeneration, 1, 'descriptor still from the earlier boot');
    const r = freeOp(booted, [a]);
    assert.deepEqual(r.initialisedSections, [0], 'freeing touched the stale section');
    assert.equal(sections(booted)[0].state, 'initialized');
    assert.equal(frames(booted, a, 1)[0].initGeneration, 2);
    assert.ok(check(booted).ok);
  });

  it('re-initialises a stale section as decoding and re-encoding each descriptor would, damaged ones included', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    initSectionsOp(img, [1]);
    allocOp(img, { order: 0, owner: 'many', count: 600 });
    for (const [order, owner] of [[0, 'a'], [0, 'ext4-journal'], [2, 'é-utf8'], [1, '0123456789abcdef'], [0, '']] as const) allocOp(img, { order, owner, count: 3 });
    img.close();
    const first = 512;
    const at = (i: number) => img.memmapOffset(first) + i * 64;
    const reseal = (b: Uint8Array) => { new DataView(b.buffer, b.byteOffset).setUint32(60, crc32(b.subarray(0, 60)), true); return b; };
    const damage = (i: number, change: (b: Uint8Array) => void, seal = true) => {
      const b = store.read(at(i), 64).slice();
      change(b);
      store.write(at(i), seal ? reseal(b) : b);
    };
    damage(0, (b) => { b[24] = 0x61; b[25] = 0; b[26] = 0x63; }); // bytes after the owner's NUL
    damage(1, (b) => { b[30] ^= 1; }, false); // checksum
    damage(2, (b) => { b[0] |= 0x20; }); // unknown flag
    damage(9, (b) => { b[0] |= 0x10; }); // PG_freeing: kept
    damage(3, (b) => { b[7] = 2; }); // core version
    damage(4, (b) => { b[15] = 0x01; }); // pfn past 2^53
    damage(5, (b) => { b[24] = 0xff; }); // owner not UTF-8
    damage(6, (b) => b.fill(0)); // blank
    damage(7, (b) => { b[0] &= ~1; }); // PG_core missing
    damage(8, (b) => { b[51] = 0x7f; b[54] = 0x20; }); // prev past 2^53
    const before = store.read(img.memmapOffset(first), 512 * 64);
    const booted = PmemImage.open(store, {});
    // The rule, one descriptor at a time.
    const want = freshSectionDescriptors(booted, 1, booted.bootGeneration);
    const notes: string[] = [];
    for (let i = 0; i < 512; i++) {
      const raw = before.subarray(i * 64, i * 64 + 64);
      if (isBlank(raw)) {
        notes.push(`pfn ${first + i}: descriptor was blank in a stale section; re-initialised as plain`);
        continue;
      }
      const c = checkDescriptorBytes(raw);
      if (!c.ok) {
        notes.push(`pfn ${first + i}: ${c.field} ${c.reason}; re-initialised as plain`);
        continue;
      }
      const old = decodeDescriptor(raw);
      const d = decodeDescriptor(want, i * 64);
      want.set(encodeDescriptor({ ...d, flags: d.flags | (old.flags & (PG_BUDDY | PG_ALLOCATED | PG_FREEING)), order: old.order, owner: old.owner, next: old.next, prev: old.prev, refcount: old.flags & PG_ALLOCATED ? 1 : 0 }), i * 64);
    }
    assert.equal(notes.length, 8, 'every damaged descriptor is noted (bytes after an owner\'s NUL are no damage)');
    assert.ok(snapshot(booted).allocated.filter((b) => +b.split(':')[0] >= first && +b.split(':')[0] < first + 512).length > 100, 'the section holds allocated blocks');
    initSectionsOp(booted, [1]);
    assert.deepEqual(store.read(img.memmapOffset(first), 512 * 64), want);
    assert.deepEqual(booted.warnings, notes);
  });

  it('resets volatile fields (refcount) and keeps persistent ones across boots', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    const pfn = allocOp(img, { order: 1, owner: 'fs' }).blocks[0].pfn;
    img.close();
    const b = PmemImage.open(store, {});
    initSectionsOp(b, [0]);
    const f = frames(b, pfn, 2);
    assert.deepEqual([f[0].kind, f[0].order, f[0].owner, f[0].refcount], ['allocated', 1, 'fs', 1]);
    assert.equal(f[1].blockPfn, pfn);
  });

  it('reboots into another profile: core descriptors read the same, extended fields read 0 until reused', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB, profile: 'debug' });
    const pfn = allocOp(img, { order: 0, owner: 'x' }).blocks[0].pfn;
    const withDebug = frames(img, pfn, 1)[0];
    assert.ok(withDebug.extended.shadow > 0 && withDebug.extended.page_owner > 0);
    img.close();
    const plain = PmemImage.open(store, { profile: 'default' });
    const f = frames(plain, pfn, 1)[0];
    assert.deepEqual(f.extended, {}, 'the default profile has no extended part');
    assert.equal(plain.extendedField(pfn, 'shadow'), 0);
    assert.deepEqual([f.kind, f.owner, f.order], [withDebug.kind, withDebug.owner, withDebug.order]);
    plain.close();
    const back = PmemImage.open(store, { profile: 'kmemcheck' });
    assert.equal(back.extendedField(pfn, 'shadow'), 0, 'extended fields are volatile: 0 until re-initialised');
    const q = allocOp(back, { order: 0 }).blocks[0].pfn;
    assert.ok(back.extendedField(q, 'shadow') > 0);
    assert.equal(back.extendedField(q, 'last_cpupid'), 0, 'kmemcheck lacks last_cpupid');
    assert.ok(check(back).ok);
  });

  it('with the memmap in RAM, descriptors are rebuilt from the free-page links at each boot', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB, memmap: 'ram' });
    const a = allocOp(img, { order: 2, owner: 'gone' }).blocks[0].pfn;
    const freeBefore = snapshot(img).free;
    img.close();
    const b = PmemImage.open(store, {});
    const f = frames(b, a, 4);
    assert.ok(f.every((x) => x.kind === 'allocated' && x.owner === '' && x.order === 0 && !x.descriptorPresent), 'allocated blocks come back as order-0 frames of unknown owner');
    assert.deepEqual(snapshot(b).free, freeBefore, 'free blocks persist through their links');
    freeOp(b, [a, a + 1, a + 2, a + 3]);
    assert.ok(check(b).ok);
    assert.equal(info(b).frames.allocated, 0);
  });

  it('prints /proc/buddyinfo exactly', () => {
    const { img } = newImage({ sizeBytes: 16 * MiB, nodes: 2 });
    initAll(img);
    const text = buddyinfo(img);
    const lines = text.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line, /^Node \d, zone {4}DMA32 ( {0,5}\d+ ){11}$/);
  });
});

describe('bigger sections', () => {
  it('hands over a 1 GiB section as order-max blocks', () => {
    const { img } = newImage({ sizeBytes: 3 * GiB, sectionBytes: GiB });
    initSectionsOp(img, [1]);
    assert.equal(listCount(img, 10), 256, '1 GiB / 4 MiB');
    assert.ok(check(img).ok);
  });
});

describe('a failed operation leaves nothing behind', () => {
  for (const memmap of ['device', 'ram'] as const) {
    it(`a failed multi-block allocation leaves later allocations unaffected (memmap on ${memmap})`, () => {
      const { img } = newImage({ sizeBytes: 16 * MiB, maxOrder: 9, memmap });
      const before = snapshot(img);
      assert.throws(() => allocOp(img, { order: 9, count: 100 }), (e: Error) => e instanceof OperationError && /out of memory/.test(e.message));
      assert.deepEqual(snapshot(img), before, 'the failed allocation changed nothing');
      // Thousands of frames are still never-initialised: the next allocation must find them.
      const r = allocOp(img, { order: 0 });
      assert.equal(r.blocks.length, 1);
      assert.deepEqual(r.initialisedSections, [0], 'lazy init hands over the first section again');
      assert.equal(allocOp(img, { order: 0, count: 200 }).blocks.length, 200);
      assert.ok(check(img).ok);
    });
  }
});
