import { strict as assert } from 'node:assert';
import { crc32 } from '../../src/engine/core/bytes';
import { decodeDescriptor, encodeDescriptor, checkDescriptorBytes, PG_ALLOCATED, PG_BUDDY, PG_CORE, DESC, patchPlain, patchPlainBodies, patchPlainSealed, sealDescriptors, stampDescriptors } from '../../src/engine/format/descriptor';
import { decodeFreeAreaEntry, encodeFreeAreaEntry, freeAreaEntryAt, freeAreaEntryOffset } from '../../src/engine/format/freeArea';
import { decodeFreeLink, encodeFreeLink } from '../../src/engine/format/freeLink';
import { decodeJournalHeader, encodeJournalHeader, encodeStateWord, JH, JOURNAL_COMMITTED, JOURNAL_EMPTY, JOURNAL_INTENT, JOURNAL_STATE_WORD } from '../../src/engine/format/journal';
import { computeLayout, computeNodes, FREE_AREA_ENTRY_SIZE, makeGeometry, reservedFramesIn, SECTION_ENTRY_SIZE } from '../../src/engine/format/layout';
import { coalesce, decodeRanges, encodeRanges, encodedSize } from '../../src/engine/format/rangeList';
import {
  decodeSectionEntry, encodeSectionEntry, readSectionField, readSectionGeneration, SECTION, sectionEntryAt, sectionEntryOffset, sectionState,
} from '../../src/engine/format/sectionTable';
import { decodeSuperblock, encodeSuperblock, SB } from '../../src/engine/format/superblock';
import { ImageError, UsageError, DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_NORMAL, ZONE_DMA32, ZONE_MOVABLE, FORMAT_VERSION } from '../../src/engine';
import { dataView, GiB, MiB } from './helpers';

function sampleSuperblock() {
  const geometry = makeGeometry({ sizeBytes: 16 * GiB, nodes: 2, movablePercent: 25 });
  return {
    formatVersion: FORMAT_VERSION, formatRevision: 0, uuid: '12345678-9abc-4def-8123-456789abcdef', updateSeq: 7, geometry, layout: computeLayout(geometry),
    nodes: computeNodes(geometry), clean: false, bootGeneration: 42, profile: 'kmemcheck', createdAtMs: 1_700_000_000_000,
  };
}

describe('format: superblock', () => {
  it('round-trips every field', () => {
    const sb = sampleSuperblock();
    const decoded = decodeSuperblock(encodeSuperblock(sb), 0);
    assert.deepEqual(decoded, sb);
  });

  it('detects a flipped bit through the checksum, naming the field and offset', () => {
    const bytes = encodeSuperblock(sampleSuperblock());
    bytes[SB.bootGeneration] ^= 1;
    assert.throws(() => decodeSuperblock(bytes, 8192, 'x.pmem'), (e: ImageError) => e instanceof ImageError && /checksum/.test(e.message) && e.location.offset === 8192 + SB.crc && /x\.pmem/.test(e.message));
  });

  it('rejects a foreign file by its magic and an unknown format version', () => {
    const foreign = new Uint8Array(PAGE_SIZE).fill(0x41);
    assert.throws(() => decodeSuperblock(foreign, 0), /not a pmem image/);
    const bytes = encodeSuperblock(sampleSuperblock());
    dataView(bytes).setUint32(SB.formatVersion, 99, true);
    dataView(bytes).setUint32(SB.crc, crc32(bytes.subarray(0, SB.crc)), true);
    assert.throws(() => decodeSuperblock(bytes, 0), /format version 99 is not supported/);
  });
});

describe('format: geometry and layout', () => {
  it('puts one 64-byte descriptor per frame in the memmap: 1.5625 % of the device', () => {
    for (const size of [64 * MiB, 16 * GiB, 2 ** 40]) {
      const g = makeGeometry({ sizeBytes: size });
      const L = computeLayout(g);
      assert.equal(L.memmap.frames * PAGE_SIZE, g.totalFrames * DESCRIPTOR_SIZE);
      assert.equal(L.memmap.frames / g.totalFrames, 0.015625);
      assert.equal(L.data.startPfn + L.data.frames, g.totalFrames - 1, 'data runs up to the backup superblock');
    }
  });

  it('counts as reserved, section by section, exactly the frames outside the data region', () => {
    for (const o of [{ sizeBytes: 64 * MiB }, { sizeBytes: 16 * GiB, memmap: 'ram' as const }, { sizeBytes: 4 * GiB, sectionBytes: GiB }]) {
      const g = makeGeometry(o);
      const L = computeLayout(g);
      const reserved = Array.from({ length: g.sectionCount }, (_, s) => reservedFramesIn(L, g.sectionFrames, s));
      assert.equal(reserved.reduce((a, b) => a + b, 0), g.totalFrames - L.data.frames, JSON.stringify(o));
      assert.equal(reserved[0], Math.min(g.sectionFrames, L.data.startPfn));
      assert.equal(reserved[g.sectionCount - 1], 1 + Math.max(0, L.data.startPfn - (g.sectionCount - 1) * g.sectionFrames)); // the backup superblock
    }
  });

  it('has no memmap region with placement ram', () => {
    const L = computeLayout(makeGeometry({ sizeBytes: 64 * MiB, memmap: 'ram' }));
    assert.equal(L.memmap.frames, 0);
  });

  it('splits nodes into whole sections and zones at 4 GiB and the movable share', () => {
    const g = makeGeometry({ sizeBytes: 16 * GiB, nodes: 2, movablePercent: 25 });
    const [n0, n1] = computeNodes(g);
    assert.equal(n0.frames, 8 * GiB / PAGE_SIZE);
    assert.equal(n0.zones[ZONE_DMA32].frames, 4 * GiB / PAGE_SIZE);
    assert.equal(n0.zones[ZONE_NORMAL].frames, 2 * GiB / PAGE_SIZE);
    assert.equal(n0.zones[ZONE_MOVABLE].frames, 2 * GiB / PAGE_SIZE);
    assert.equal(n1.zones[ZONE_DMA32].frames, 0, 'node 1 starts above 4 GiB');
    assert.equal(n1.firstPfn, n0.frames);
  });

  it('rejects bad geometry with clear messages', () => {
    assert.throws(() => makeGeometry({ sizeBytes: 3 * MiB }), UsageError);
    assert.throws(() => makeGeometry({ sizeBytes: 65 * MiB }), /multiple of the section size/);
    assert.throws(() => makeGeometry({ sizeBytes: 64 * MiB, sectionBytes: GiB }), /multiple of the section size/);
    assert.throws(() => makeGeometry({ sizeBytes: 64 * MiB, sectionBytes: 4 * MiB }), /2M or 1G/);
    assert.throws(() => makeGeometry({ sizeBytes: 64 * MiB, nodes: 9 }), /nodes must be/);
    assert.throws(() => makeGeometry({ sizeBytes: 64 * MiB, memmap: 'ram', links: 'descriptor' }), /persistent memmap/);
    assert.throws(() => makeGeometry({ sizeBytes: 64 * MiB, profile: 'nope' }), /unknown kernel profile/);
  });
});

describe('format: descriptor', () => {
  it('round-trips and is exactly 64 bytes', () => {
    const d = { flags: PG_CORE | PG_ALLOCATED, order: 9, node: 3, zone: 1, pfn: 2 ** 40 / 4096 - 5, refcount: 2, initGeneration: 77, owner: 'ext4-journal', next: 123456, prev: 654321, volatileFlags: 1 };
    const bytes = encodeDescriptor(d);
    assert.equal(bytes.length, 64);
    assert.deepEqual(decodeDescriptor(bytes), d);
    assert.deepEqual(checkDescriptorBytes(bytes), { ok: true });
  });

  it('detects corruption and unknown flags', () => {
    const bytes = encodeDescriptor({ flags: PG_CORE, order: 0, node: 0, zone: 0, pfn: 5, refcount: 0, initGeneration: 1, owner: '', next: 0, prev: 0, volatileFlags: 0 });
    bytes[DESC.pfn] ^= 0xff;
    const r = checkDescriptorBytes(bytes);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /checksum/);
  });

  // Runs of descriptors are built and sealed through the CRC's table, not one crc32 each: the bytes must be the encoder's.
  const sample = (pfn: number, i: number) => ({
    flags: PG_CORE | (i % 3 === 0 ? PG_ALLOCATED : i % 3 === 1 ? PG_BUDDY : 0), order: i % 5, node: i % 4, zone: i % 3, pfn, refcount: i % 2,
    initGeneration: 1000 + (i % 7), owner: ['', 'a', 'ext4-journal', 'é'][i % 4], next: i % 11 ? pfn + 3 : 0, prev: i % 13 ? pfn - 1 : 0, volatileFlags: i % 2,
  });
  for (const first of [5, 2 ** 32 - 3, 2 ** 40 - 7]) {
    it(`seals and stamps runs as the encoder does (pfns from ${first})`, () => {
      const n = 37;
      const want = new Uint8Array(n * 64);
      for (let i = 0; i < n; i++) want.set(encodeDescriptor(sample(first + i, i)), i * 64);
      const got = want.slice();
      for (let i = 0; i < n; i++) got[i * 64 + DESC.crc] ^= 0x5a;
      sealDescriptors(got, 0, n);
      assert.deepEqual(got, want);
      const strided = want.slice();
      for (let i = 1; i < n; i += 3) strided.fill(0, i * 64 + DESC.crc, i * 64 + 64);
      sealDescriptors(strided, 1, 12, 3);
      assert.deepEqual(strided, want);
      // A pattern of three descriptors (pfns 0), repeated: each gets its pfn and CRC.
      const pattern = new Uint8Array(3 * 64);
      for (let j = 0; j < 3; j++) pattern.set(encodeDescriptor({ ...sample(0, j), next: 0, prev: 0 }), j * 64);
      const stamped = new Uint8Array(n * 64);
      stampDescriptors(stamped, pattern, first);
      for (let i = 0; i < n; i++) assert.deepEqual(stamped.subarray(i * 64, i * 64 + 64), encodeDescriptor({ ...sample(0, i % 3), next: 0, prev: 0, pfn: first + i }), `descriptor ${i}`);
      const plain = want.slice();
      patchPlainBodies(plain, n);
      sealDescriptors(plain, 0, n);
      const one = want.slice();
      for (let i = 0; i < n; i++) patchPlain(one, i * 64);
      assert.deepEqual(plain, one);
      // In one pass, every descriptor or every third (the heads of order-1 blocks and so on).
      const fused = want.slice();
      patchPlainSealed(fused, n);
      assert.deepEqual(fused, one);
      const third = want.slice();
      patchPlainSealed(third, 13, 3);
      const thirdOne = want.slice();
      for (let i = 0; i < n; i += 3) patchPlain(thirdOne, i * 64);
      assert.deepEqual(third, thirdOne);
    });
  }

  it('takes the CRC of long buffers 16 bytes a step, as the byte-wise CRC gives, at any alignment and seed', () => {
    const bytes = new Uint8Array(20000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 13;
    const slow = (b: Uint8Array, seed: number) => {
      let c = ~seed;
      for (const v of b) {
        c ^= v;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return ~c >>> 0;
    };
    for (const [from, length, seed] of [[0, 4096, 0], [1, 4099, 0], [3, 8190, 0x12345678], [2, 16384, 0xffffffff], [0, 20000, 7], [5, 4111, 1]]) {
      const b = bytes.subarray(from, from + length);
      assert.equal(crc32(b, seed), slow(b, seed), `${length} bytes from ${from}, seed ${seed}`);
    }
  });

  it('rejects an owner tag longer than 16 bytes', () => {
    assert.throws(() => encodeDescriptor({ flags: PG_CORE, order: 0, node: 0, zone: 0, pfn: 5, refcount: 0, initGeneration: 1, owner: 'x'.repeat(17), next: 0, prev: 0, volatileFlags: 0 }), RangeError);
  });
});

describe('format: section entry, free area, free link, journal header, ranges', () => {
  it('section entries round-trip and derive state from generations', () => {
    const e = { initGeneration: 5, freeFrames: 100, allocatedFrames: 400, reservedFrames: 12 };
    assert.deepEqual(decodeSectionEntry(encodeSectionEntry(e)), e);
    assert.equal(sectionState(0, 5), 'never');
    assert.equal(sectionState(5, 5), 'initialized');
    assert.equal(sectionState(4, 5), 'stale');
  });

  it('free-area entries round-trip', () => {
    const e = { head: 2 ** 28 - 1, count: 99 };
    assert.deepEqual(decodeFreeAreaEntry(encodeFreeAreaEntry(e)), e);
  });

  it('the raw section-table readers see what the decoder sees, entry by entry, where the layout puts them', () => {
    const entries = [
      { initGeneration: 0, freeFrames: 0, allocatedFrames: 0, reservedFrames: 300 },
      { initGeneration: 7, freeFrames: 500, allocatedFrames: 12, reservedFrames: 0 },
      { initGeneration: 2 ** 32 - 1, freeFrames: 1, allocatedFrames: 262143, reservedFrames: 0 },
    ];
    const table = new Uint8Array(entries.length * SECTION_ENTRY_SIZE);
    entries.forEach((e, s) => table.set(encodeSectionEntry(e), s * SECTION_ENTRY_SIZE));
    const dv = dataView(table);
    entries.forEach((e, s) => {
      assert.deepEqual(sectionEntryAt(dv, s), e);
      assert.deepEqual(decodeSectionEntry(table, s * SECTION_ENTRY_SIZE), e);
      assert.equal(readSectionGeneration(dv, s), e.initGeneration);
      for (const field of Object.keys(SECTION) as Array<keyof typeof SECTION>) assert.equal(readSectionField(dv, s, SECTION[field]), e[field], field);
    });
    const layout = computeLayout(makeGeometry({ sizeBytes: 64 * MiB }));
    assert.equal(sectionEntryOffset(layout, 0), layout.sectionTable.startPfn * PAGE_SIZE);
    assert.equal(sectionEntryOffset(layout, 5), layout.sectionTable.startPfn * PAGE_SIZE + 5 * 16);
  });

  it('the raw free-area reader sees what the decoder sees, but keeps values of 2^53 or more too large instead of NaN', () => {
    const table = new Uint8Array(3 * FREE_AREA_ENTRY_SIZE);
    table.set(encodeFreeAreaEntry({ head: 0, count: 0 }), 0);
    table.set(encodeFreeAreaEntry({ head: 2 ** 40 + 3, count: 17 }), FREE_AREA_ENTRY_SIZE);
    table.fill(0xff, 2 * FREE_AREA_ENTRY_SIZE); // head and count 2^64 - 1: never valid
    const dv = dataView(table);
    assert.deepEqual(freeAreaEntryAt(dv, 0), { head: 0, count: 0 });
    assert.deepEqual(freeAreaEntryAt(dv, 1), { head: 2 ** 40 + 3, count: 17 });
    assert.deepEqual(freeAreaEntryAt(dv, 1), decodeFreeAreaEntry(table, FREE_AREA_ENTRY_SIZE));
    const huge = freeAreaEntryAt(dv, 2);
    assert.ok(huge.head >= 2 ** 64 - 2 ** 12 && huge.count >= 2 ** 64 - 2 ** 12, JSON.stringify(huge));
    assert.ok(Number.isNaN(decodeFreeAreaEntry(table, 2 * FREE_AREA_ENTRY_SIZE).head));
    const layout = computeLayout(makeGeometry({ sizeBytes: 64 * MiB }));
    assert.equal(freeAreaEntryOffset(layout, 0), layout.freeArea.startPfn * PAGE_SIZE);
    assert.equal(freeAreaEntryOffset(layout, 9), layout.freeArea.startPfn * PAGE_SIZE + 9 * 16);
  });

  it('free links round-trip and detect a stray or corrupt record', () => {
    const l = { pfn: 4096, next: 8192, prev: 0, order: 3, node: 1, zone: 2, linkedGeneration: 9 };
    const bytes = encodeFreeLink(l);
    assert.deepEqual(decodeFreeLink(bytes), { ok: true, link: l });
    bytes[20] ^= 1;
    assert.equal(decodeFreeLink(bytes).ok, false);
    assert.equal(decodeFreeLink(new Uint8Array(48)).ok, false);
  });

  it('journal headers round-trip and detect corruption', () => {
    const h = { state: JOURNAL_COMMITTED, payloadBytes: 4096, txnSeq: 12, payloadCrc: 0xdeadbeef, description: 'alloc order 3' };
    const bytes = encodeJournalHeader(h);
    assert.deepEqual(decodeJournalHeader(bytes, 0), h);
    const stateOnly = bytes.slice();
    stateOnly.set(encodeStateWord(JOURNAL_EMPTY, 4096), JOURNAL_STATE_WORD);
    assert.deepEqual(decodeJournalHeader(stateOnly, 0), { ...h, state: JOURNAL_EMPTY }, 'the state word changes alone: the checksum reads it as zero');
    const legacy = bytes.slice();
    dataView(legacy).setUint32(JH.crc, crc32(legacy.subarray(0, JH.crc)), true);
    assert.deepEqual(decodeJournalHeader(legacy, 0), h, 'a header checksummed with its state (older images) still reads');
    bytes[17] ^= 1;
    assert.deepEqual(decodeJournalHeader(bytes, 4096), { state: JOURNAL_INTENT, torn: true, payloadBytes: 0, txnSeq: 12 + 256, payloadCrc: 0, description: '' }, 'a header failing its checksum is a torn, uncommitted intent');
    bytes.set(new TextEncoder().encode('PMEMJRNX'), 0);
    assert.throws(() => decodeJournalHeader(bytes, 4096), (e: ImageError) => e.location.field === 'journal.magic' && /no magic/.test(e.message));
  });

  it('range lists round-trip, reject overruns, and coalesce with later writes winning', () => {
    const ranges = [{ offset: 100, data: new Uint8Array([1, 2, 3]) }, { offset: 5000, data: new Uint8Array(13).fill(7) }];
    const out = new Uint8Array(encodedSize(ranges));
    encodeRanges(ranges, out, 0);
    assert.deepEqual(decodeRanges(out, 0, out.length, 10_000), ranges);
    assert.equal(decodeRanges(out, 0, out.length - 8, 10_000), undefined);
    assert.equal(decodeRanges(out, 0, out.length, 5005), undefined, 'a range past the image is refused');
    const merged = coalesce([{ offset: 10, data: new Uint8Array([1, 1, 1, 1]) }, { offset: 12, data: new Uint8Array([2, 2, 2]) }, { offset: 30, data: new Uint8Array([3]) }]);
    assert.deepEqual(merged.map((r) => [r.offset, [...r.data]]), [[10, [1, 1, 2, 2, 2]], [30, [3]]]);
  });
});
