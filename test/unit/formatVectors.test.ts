/**
 * Byte vectors written by hand from the tables of docs/FORMAT.md (offsets,
 * sizes, little-endian), not produced by the encoders. Each vector is decoded
 * field by field, then the same fields are encoded and compared byte for byte.
 * Checksums are computed here from the document's rule (CRC-32 IEEE 802.3,
 * the zlib polynomial) with an implementation of this file's own.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeLayout, computeNodes, FREE_AREA_ENTRY_SIZE, makeGeometry, SECTION_ENTRY_SIZE } from '../../src/engine/format/layout';
import { DESCRIPTOR_SIZE } from '../../src/engine/format/constants';
import { SUPERBLOCK_SIZE } from '../../src/engine/format/superblock';
import { decodeSuperblock, encodeSuperblock, SB } from '../../src/engine/format/superblock';
import { checkDescriptorBytes, DESC, decodeDescriptor, encodeDescriptor, PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_FREEING, PV_LOCKED } from '../../src/engine/format/descriptor';
import { decodeIntent, encodeIntent, INTENT_SIZE } from '../../src/engine/format/intent';
import { decodeSectionEntry, encodeSectionEntry, SECTION } from '../../src/engine/format/sectionTable';
import { decodeFreeAreaEntry, encodeFreeAreaEntry, FREE_AREA, freeAreaIndex } from '../../src/engine/format/freeArea';
import { decodeFreeLink, encodeFreeLink, FREE_LINK_SIZE, LINK } from '../../src/engine/format/freeLink';
import { decodeJournalHeader, encodeJournalHeader, JH, JOURNAL_COMMITTED, JOURNAL_HEADER_SIZE } from '../../src/engine/format/journal';
import { decodeRanges, encodeRanges, encodedSize } from '../../src/engine/format/rangeList';
import { CR, encodeHistoryHeader, HH, HISTORY_HEADER_SIZE, HistoryRing, HR, RECORD_HEADER_SIZE } from '../../src/engine/format/history';
import { decodeUndo, encodeInverse, InverseEntry, undoContext, UndoState, UndoTarget } from '../../src/engine/format/undoCodec';
import { ByteWriter, CodecError, crc32Range } from '../../src/engine/format/compact';
import { MemoryStore } from '../../src/engine/store/memoryStore';
import { PatchStore } from '../../src/engine/store/patchStore';
import { decodeTwoWord, projectTwoWords, TWO_WORD, TWO_WORD_SIZE, twoWordOffset } from '../../src/engine/format/twoWord';
import { allocationWords, decodeMemdescWord, memdescSlotOffset, memdescWordOffset } from '../../src/engine/format/memdesc';
import { unitOffset } from '../../src/engine/alloc/units2m';
import { dataView } from './helpers';

/** The compact record's fixed fields (the rest are varints). */
const CR_FIXED = { tag: CR.tag, crc: CR.crc };

/** Bytes from hex written by hand; spaces, newlines and `|` only separate. */
function hex(s: string): Uint8Array {
  const digits = s.replace(/[\s|]/g, '');
  assert.ok(/^([0-9a-f]{2})*$/.test(digits), `bad hex: ${s}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** A structure of `size` zero bytes with hand-written fields at the document's offsets. */
function bytesOf(size: number, fields: Array<[offset: number, hexBytes: string]>): Uint8Array {
  const out = new Uint8Array(size);
  for (const [offset, h] of fields) out.set(hex(h), offset);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
/** CRC-32 as the document defines it: reflected polynomial 0xEDB88320, initial and final value 0xFFFFFFFF. */
function docCrc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** Stores the document's CRC of bytes [from, to) as a little-endian u32 at `at`. */
function putCrc(bytes: Uint8Array, at: number, from = 0, to = at): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, docCrc(bytes.subarray(from, to)), true);
}

function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const first = actual.findIndex((b, i) => b !== expected[i]);
  assert.equal(first, -1, `${what}: first difference at byte ${first} (encoded 0x${actual[first]?.toString(16)}, document 0x${expected[first]?.toString(16)})`);
}

describe('format vectors from docs/FORMAT.md', () => {
  it('the CRC rule is the standard CRC-32 (check value of "123456789" is 0xCBF43926)', () => {
    assert.equal(docCrc(new TextEncoder().encode('123456789')), 0xcbf43926);
  });

  it('the engine CRC of a range, eight bytes a step from 16 bytes on, equals the document CRC at every length, offset and seed', () => {
    const b = new Uint8Array(300);
    for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
    for (let from = 0; from < 9; from++) {
      for (let to = from; to <= from + 130; to++) {
        assert.equal(crc32Range(b, from, to), docCrc(b.subarray(from, to)), `[${from}, ${to})`);
        // Continued from a seed: the CRC of the two pieces together.
        const mid = from + ((to - from) >> 1);
        assert.equal(crc32Range(b, mid, to, crc32Range(b, from, mid)), docCrc(b.subarray(from, to)), `[${from}, ${mid}) then [${mid}, ${to})`);
      }
    }
  });

  it('superblock: 16 MiB, 2 MiB sections, 1 node, 25 % movable, clean, profile numa', () => {
    const v = bytesOf(4096, [
      [0, '50 4d 45 4d 49 4d 47 00'], // magic PMEMIMG\0
      [8, '01 00'], // formatVersion 1
      [10, '00 00'], // formatRevision 0
      [12, 'f0 02 00 00'], // headerBytes 752
      [16, '0f 1e 2d 3c 4b 5a 46 97 88 77 66 55 44 33 22 11'], // uuid
      [32, '07 00 00 00 00 00 00 00'], // updateSeq 7
      [40, '00 00 00 01 00 00 00 00'], // sizeBytes 16 MiB
      [48, '00 10 00 00'], // pageSize 4096
      [52, '40 00 00 00'], // descriptorSize 64
      [56, '00 10 00 00 00 00 00 00'], // totalFrames 4096
      [64, '00 02 00 00'], // sectionFrames 512
      [68, '08 00 00 00'], // sectionCount 8
      [72, '00'], // memmapPlacement device
      [73, '00'], // linksPlacement in the free page
      [74, '0a'], // maxOrder 10
      [75, '01'], // nodeCount 1
      [76, '01 00 00 00'], // flags CLEAN
      [80, '03 00 00 00'], // bootGeneration 3
      [84, '19 00 00 00'], // movablePercent 25
      [88, '6e 75 6d 61'], // profile "numa", NUL-padded to 16
      [104, '00 a8 da 76 9b 01 00 00'], // createdAtMs 1767225600000 (2026-01-01)
      // regions[8]: u64 startPfn, u64 frames
      [112, '00 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00'], // superblock 0, 1
      [128, '01 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00'], // sectionTable 1, ceil(8 × 16 / 4096) = 1
      [144, '02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00'], // freeArea 2, ceil(1 × 3 × 11 × 16 / 4096) = 1
      [160, '03 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00'], // journal 3, clamp(8, 16, 256) = 16
      [176, '13 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00'], // history 19, 16 frames (chosen at creation; version 1 made clamp(16, 16, 1024))
      [192, '23 00 00 00 00 00 00 00 | 40 00 00 00 00 00 00 00'], // memmap 35, 4096 / 64 = 64
      [208, '63 00 00 00 00 00 00 00 | 9c 0f 00 00 00 00 00 00'], // data 99, 3996
      [224, 'ff 0f 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00'], // backupSuperblock 4095, 1
      // nodes[0]: firstPfn, frames, then zones DMA32, Normal, Movable (firstPfn, frames)
      [240, '00 00 00 00 00 00 00 00 | 00 10 00 00 00 00 00 00'], // node 0: 0, 4096
      [256, '00 00 00 00 00 00 00 00 | 00 0c 00 00 00 00 00 00'], // DMA32 0, 3072
      [272, '00 0c 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00'], // Normal 3072, 0
      [288, '00 0c 00 00 00 00 00 00 | 00 04 00 00 00 00 00 00'], // Movable 3072, 1024 (top 2 of 8 sections)
    ]);
    putCrc(v, 4092);

    const sb = decodeSuperblock(v, 0);
    assert.equal(sb.formatVersion, 1);
    assert.equal(sb.formatRevision, 0);
    assert.equal(sb.uuid, '0f1e2d3c-4b5a-4697-8877-665544332211');
    assert.equal(sb.updateSeq, 7);
    assert.deepEqual(sb.geometry, {
      sizeBytes: 16 * 2 ** 20, totalFrames: 4096, sectionFrames: 512, sectionCount: 8, nodeCount: 1, maxOrder: 10,
      memmap: 'device', links: 'page', movablePercent: 25, historyFrames: 16,
    });
    assert.equal(sb.clean, true);
    assert.equal(sb.bootGeneration, 3);
    assert.equal(sb.profile, 'numa');
    assert.equal(sb.createdAtMs, Date.UTC(2026, 0, 1));
    const expectedLayout = {
      superblock: { startPfn: 0, frames: 1 }, sectionTable: { startPfn: 1, frames: 1 }, freeArea: { startPfn: 2, frames: 1 },
      journal: { startPfn: 3, frames: 16 }, history: { startPfn: 19, frames: 16 }, memmap: { startPfn: 35, frames: 64 },
      data: { startPfn: 99, frames: 3996 }, backupSuperblock: { startPfn: 4095, frames: 1 },
    };
    assert.deepEqual(sb.layout, expectedLayout);
    const expectedNodes = [{ id: 0, firstPfn: 0, frames: 4096, zones: [{ id: 0, firstPfn: 0, frames: 3072 }, { id: 1, firstPfn: 3072, frames: 0 }, { id: 2, firstPfn: 3072, frames: 1024 }] }];
    assert.deepEqual(sb.nodes, expectedNodes);
    // The document's layout and zone rules, as the engine computes them, give the same tables.
    assert.deepEqual(computeLayout(sb.geometry), expectedLayout);
    assert.deepEqual(computeNodes(sb.geometry), expectedNodes);

    assertBytes(encodeSuperblock(sb), v, 'superblock');
  });

  it('core descriptor: an allocated head with an owner, locked', () => {
    const v = bytesOf(64, [
      [0, '09 00 00 00'], // flags PG_core | PG_allocated
      [4, '03'], // order 3
      [5, '01'], // node 1
      [6, '02'], // zone Movable
      [7, '01'], // coreVersion 1
      [8, 'de bc 0a 00 00 00 00 00'], // pfn 0xabcde
      [16, '01 00 00 00'], // refcount 1
      [20, '05 00 00 00'], // initGeneration 5
      [24, '64 62 2d 63 61 63 68 65'], // owner "db-cache", NUL-padded to 16
      [40, '00 00 00 00 00 00 00 00'], // next none
      [48, '00 00 00 00 00 00 00 00'], // prev none
      [56, '01 00 00 00'], // volatileFlags locked
    ]);
    putCrc(v, 60);
    assert.deepEqual(checkDescriptorBytes(v), { ok: true });
    const d = decodeDescriptor(v);
    assert.deepEqual(d, { flags: PG_CORE | PG_ALLOCATED, order: 3, node: 1, zone: 2, pfn: 0xabcde, refcount: 1, initGeneration: 5, owner: 'db-cache', next: 0, prev: 0, volatileFlags: PV_LOCKED });
    assertBytes(encodeDescriptor(d), v, 'descriptor');
  });

  it('core descriptor: an allocated head marked for a free of listed blocks (PG_freeing)', () => {
    const v = bytesOf(64, [
      [0, '19 00 00 00'], // flags PG_core | PG_allocated | PG_freeing
      [7, '01'], // coreVersion 1
      [8, '00 20 00 00 00 00 00 00'], // pfn 8192
      [16, '01 00 00 00'], // refcount 1
      [20, '03 00 00 00'], // initGeneration 3
      [24, '66 73'], // owner "fs"
    ]);
    putCrc(v, 60);
    assert.deepEqual(checkDescriptorBytes(v), { ok: true });
    const d = decodeDescriptor(v);
    assert.deepEqual(d, { flags: PG_CORE | PG_ALLOCATED | PG_FREEING, order: 0, node: 0, zone: 0, pfn: 8192, refcount: 1, initGeneration: 3, owner: 'fs', next: 0, prev: 0, volatileFlags: 0 });
    assertBytes(encodeDescriptor(d), v, 'marked descriptor');
    v[0] = 0x39; // bit 5: still unknown
    putCrc(v, 60);
    assert.deepEqual(checkDescriptorBytes(v), { ok: false, reason: 'unknown flag bits 0x20', field: 'descriptor.flags' });
  });

  it('operation intent: a free of listed blocks (kind 3), marking, then freeing', () => {
    const at = 4096 * 40 + 128;
    const v = bytesOf(INTENT_SIZE, [
      [0, '49 4e 54 4e'], // magic "INTN"
      [4, '03'], // kind 3: free listed blocks
      [7, '02'], // flags bit 1: marking
      [16, '40 0d 03 00 00 00 00 00'], // count 200000
      [24, '00 00 00 00 00 00 00 00'], // done 0
      [32, '05 16 00 00 00 00 00 00'], // lo 5637
      [40, 'a1 f4 03 00 00 00 00 00'], // hi 259233
    ]);
    putCrc(v, 60);
    const i = decodeIntent(v, at);
    assert.deepEqual(i, { kind: 'free-listed', order: 0, zone: 0, node: 0, strict: false, count: 200000, done: 0, owner: '', marking: true, lo: 5637, hi: 259233 });
    assertBytes(encodeIntent(i!), v, 'intent kind 3, marking');
    // Freeing: flags 0, done 1234.
    v[7] = 0;
    v.set(hex('d2 04 00 00 00 00 00 00'), 24);
    putCrc(v, 60);
    const f = decodeIntent(v, at)!;
    assert.equal(f.marking, false);
    assert.equal(f.done, 1234);
    assertBytes(encodeIntent(f), v, 'intent kind 3, freeing');
    // Blocks freed while still marking, or an empty range: damaged, and said where.
    v[7] = 2;
    putCrc(v, 60);
    assert.throws(() => decodeIntent(v, at), /1234 blocks freed while they are still being marked/);
    v[7] = 0;
    v.set(hex('a1 f4 03 00 00 00 00 00'), 32);
    putCrc(v, 60);
    assert.throws(() => decodeIntent(v, at), (e: Error) => /pfn range \[259233, 259233\) is empty/.test(e.message) && /intent\.lo/.test(JSON.stringify(e)));
  });

  it('core descriptor: a free head with its links in the descriptor', () => {
    const v = bytesOf(64, [
      [0, '05 00 00 00'], // flags PG_core | PG_buddy
      [4, '0a'], // order 10
      [7, '01'], // coreVersion 1
      [8, '00 04 00 00 00 00 00 00'], // pfn 1024
      [20, '02 00 00 00'], // initGeneration 2
      [40, '00 0c 00 00 00 00 00 00'], // next 3072
      [48, '00 08 00 00 00 00 00 00'], // prev 2048
    ]);
    putCrc(v, 60);
    assert.deepEqual(checkDescriptorBytes(v), { ok: true });
    const d = decodeDescriptor(v);
    assert.deepEqual(d, { flags: PG_CORE | PG_BUDDY, order: 10, node: 0, zone: 0, pfn: 1024, refcount: 0, initGeneration: 2, owner: '', next: 3072, prev: 2048, volatileFlags: 0 });
    assertBytes(encodeDescriptor(d), v, 'descriptor with links');
  });

  it('section table entry', () => {
    const v = hex('02 00 00 00 | 2c 01 00 00 | c8 00 00 00 | 0c 00 00 00'); // generation 2; 300 free, 200 allocated, 12 reserved
    const e = decodeSectionEntry(v);
    assert.deepEqual(e, { initGeneration: 2, freeFrames: 300, allocatedFrames: 200, reservedFrames: 12 });
    assertBytes(encodeSectionEntry(e), v, 'section entry');
  });

  it('free area entry, and its index (node × 3 + zone) × (maxOrder + 1) + order', () => {
    assert.equal(freeAreaIndex(10, 1, 2, 3), 58);
    assert.equal(freeAreaIndex(18, 7, 2, 18), 23 * 19 + 18);
    const v = hex('00 24 00 00 00 00 00 00 | 05 00 00 00 00 00 00 00'); // head 0x2400, count 5
    const e = decodeFreeAreaEntry(v);
    assert.deepEqual(e, { head: 0x2400, count: 5 });
    assertBytes(encodeFreeAreaEntry(e), v, 'free area entry');
  });

  it('free-list link record', () => {
    const v = bytesOf(48, [
      [0, '50 4d 45 4d 46 52 45 45'], // magic PMEMFREE
      [8, '00 24 00 00 00 00 00 00'], // pfn 0x2400
      [16, '00 28 00 00 00 00 00 00'], // next 0x2800
      [24, '00 00 00 00 00 00 00 00'], // prev none (the list head)
      [32, '04'], // order 4
      [33, '00'], // node 0
      [34, '01'], // zone Normal
      [35, '00'], // reserved
      [36, '02 00 00 00'], // linkedGeneration 2
      [40, '00 00 00 00'], // reserved
    ]);
    putCrc(v, 44);
    const r = decodeFreeLink(v);
    assert.deepEqual(r, { ok: true, link: { pfn: 0x2400, next: 0x2800, prev: 0, order: 4, node: 0, zone: 1, linkedGeneration: 2 } });
    assert.ok(r.ok);
    assertBytes(encodeFreeLink(r.link), v, 'free link');
  });

  it('journal header and payload: a committed transaction of two entries', () => {
    // Payload: u64 offset, u32 length, u32 0, the bytes, zero padding to a multiple of 8.
    const payload = hex(`
      00 50 00 00 00 00 00 00 | 03 00 00 00 | 00 00 00 00 | 61 62 63 00 00 00 00 00
      10 00 00 00 01 00 00 00 | 08 00 00 00 | 00 00 00 00 | 01 02 03 04 05 06 07 08`);
    const payloadCrc = docCrc(payload);
    const header = bytesOf(128, [
      [0, '50 4d 45 4d 4a 52 4e 4c'], // magic PMEMJRNL
      [8, '02 00 00 00'], // state committed
      [12, '30 00 00 00'], // payloadBytes 48
      [16, '2a 00 00 00 00 00 00 00'], // txnSeq 42
      [28, '00 00 00 00'], // reserved
      [32, '61 6c 6c 6f 63 20 34 20 70 61 67 65 73'], // description "alloc 4 pages", NUL-padded to 64
    ]);
    dataView(header).setUint32(24, payloadCrc, true);
    // The checksum reads the state (bytes 8..11) as 0, so committing rewrites only the state word.
    const stateAsZero = header.slice(0, 124);
    stateAsZero.fill(0, 8, 12);
    dataView(header).setUint32(124, docCrc(stateAsZero), true);

    const h = decodeJournalHeader(header, 0);
    assert.deepEqual(h, { state: JOURNAL_COMMITTED, payloadBytes: 48, txnSeq: 42, payloadCrc, description: 'alloc 4 pages' });
    assertBytes(encodeJournalHeader(h), header, 'journal header');
    // A header written before that rule (checksum over bytes 0..123 as stored) still reads the same.
    const legacy = header.slice();
    putCrc(legacy, 124);
    assert.notDeepEqual(legacy.subarray(124), header.subarray(124));
    assert.deepEqual(decodeJournalHeader(legacy, 0), h);

    const ranges = decodeRanges(payload, 0, payload.length, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(ranges, [{ offset: 0x5000, data: hex('61 62 63') }, { offset: 0x1_0000_0010, data: hex('01 02 03 04 05 06 07 08') }]);
    assert.equal(encodedSize(ranges!), 48);
    const encoded = new Uint8Array(48);
    assert.equal(encodeRanges(ranges!, encoded, 0), 48);
    assertBytes(encoded, payload, 'journal payload');
  });

  it('journal header: a description longer than 64 bytes is cut between UTF-8 characters', () => {
    // 62 × "a" then "é" (c3 a9) then "b": 65 bytes; the first 64 would end inside "é".
    const description = `${'a'.repeat(62)}éb`;
    const header = bytesOf(128, [
      [0, '50 4d 45 4d 4a 52 4e 4c'], // magic PMEMJRNL
      [16, '01 00 00 00 00 00 00 00'], // txnSeq 1
      [32, '61'.repeat(62) + 'c3 a9'], // the whole "é" fits: 64 bytes
    ]);
    putCrc(header, 124);
    assertBytes(encodeJournalHeader({ state: 0, payloadBytes: 0, txnSeq: 1, payloadCrc: 0, description }), header, 'long description');
    const cut = bytesOf(128, [
      [0, '50 4d 45 4d 4a 52 4e 4c'],
      [16, '01 00 00 00 00 00 00 00'],
      [32, '61'.repeat(63)], // "é" would need bytes 63 and 64: it is left out, not split
    ]);
    putCrc(cut, 124);
    const encoded = encodeJournalHeader({ state: 0, payloadBytes: 0, txnSeq: 1, payloadCrc: 0, description: `${'a'.repeat(63)}éb` });
    assertBytes(encoded, cut, 'description cut before a character');
    assert.equal(decodeJournalHeader(encoded, 0).description, 'a'.repeat(63));
  });

  /** A history region of 16 frames at pfn 0: the header frame, then a ring of 15 × 4096 bytes. */
  const historyRegion = { startPfn: 0, frames: 16 };
  const ringIO = (bytes: Uint8Array) => ({
    read: (offset: number, length: number) => bytes.slice(offset, offset + length),
    write: (offset: number, data: Uint8Array) => bytes.set(data, offset),
  });
  const historyHeader = (fields: { version?: string; firstSeq: string; nextSeq: string; head: string; tail: string }) => {
    const v = bytesOf(128, [
      [0, '50 4d 45 4d 48 49 53 54'], // magic PMEMHIST
      [8, fields.version ?? '02 00 00 00'], // version 2
      [12, '00 00 00 00'], // reserved
      [16, fields.firstSeq],
      [24, fields.nextSeq],
      [32, fields.head],
      [40, fields.tail],
      [48, '00 f0 00 00 00 00 00 00'], // ringBytes (16 − 1) × 4096 = 61440
    ]);
    putCrc(v, 124);
    return v;
  };

  it('history header', () => {
    const v = historyHeader({ firstSeq: '03 00 00 00 00 00 00 00', nextSeq: '05 00 00 00 00 00 00 00', head: '40 00 00 00 00 00 00 00', tail: '9b 00 00 00 00 00 00 00' });
    const region = new Uint8Array(16 * 4096);
    region.set(v, 0);
    const h = new HistoryRing(historyRegion).readHeader(ringIO(region));
    assert.deepEqual(h, { firstSeq: 3, nextSeq: 5, head: 0x40, tail: 0x9b, ringBytes: 61440 });
    assertBytes(encodeHistoryHeader(h), v, 'history header');
    // Version 1 (first-format records only) reads the same, its positions multiples of 8.
    const v1 = historyHeader({ version: '01 00 00 00', firstSeq: '03 00 00 00 00 00 00 00', nextSeq: '05 00 00 00 00 00 00 00', head: '40 00 00 00 00 00 00 00', tail: '98 00 00 00 00 00 00 00' });
    region.set(v1, 0);
    assert.deepEqual(new HistoryRing(historyRegion).readHeader(ringIO(region)), { firstSeq: 3, nextSeq: 5, head: 0x40, tail: 0x98, ringBytes: 61440 });
  });

  it('history record, first format: an allocation with a JSON summary and one undo entry (read, no longer written)', () => {
    const record = bytesOf(88, [
      [0, '48 52 45 43'], // magic "HREC" (0x43455248)
      [4, '58 00 00 00'], // totalBytes 88 = 40 + 24 + 24
      [8, '05 00 00 00 00 00 00 00'], // seq 5
      [16, '02 00 00 00'], // kind alloc
      [20, '03 00 00 00'], // bootGeneration 3
      [24, '17 00 00 00'], // summaryBytes 23
      [28, '18 00 00 00'], // undoBytes 24
      [32, '00 00 00 00'], // flags: undo kept
      [40, '7b 22 74 65 78 74 22 3a 22 61 6c 6c 6f 63 20 31 20 70 61 67 65 22 7d'], // {"text":"alloc 1 page"}, padded to 24
      [64, '00 30 00 00 00 00 00 00 | 04 00 00 00 | 00 00 00 00 | de ad be ef 00 00 00 00'], // undo: 4 old bytes at 0x3000
    ]);
    putCrc(record, 36, 0, 88); // over the whole record while the crc field is still zero

    // A ring holding just this record (steps 5..5).
    const region = new Uint8Array(16 * 4096);
    region.set(historyHeader({ version: '01 00 00 00', firstSeq: '05 00 00 00 00 00 00 00', nextSeq: '06 00 00 00 00 00 00 00', head: '00'.repeat(8), tail: '58 00 00 00 00 00 00 00' }), 0);
    region.set(record, 4096);
    const [r, ...rest] = new HistoryRing(historyRegion).records(ringIO(region), true);
    assert.equal(rest.length, 0);
    assert.deepEqual(r, { seq: 5, kind: 'alloc', bootGeneration: 3, summary: { text: 'alloc 1 page' }, undoAvailable: true, undo: [{ offset: 0x3000, length: 4, data: hex('de ad be ef') }] });
  });

  it('history record, compact: an allocation with a binary summary and an undo entry of each type', () => {
    // A 16 MiB image laid out as the superblock vector above: section table at pfn 1, free area at
    // pfn 2, history at pfn 19 (16 frames), memmap at pfn 35, data from pfn 99, all of it zone DMA32.
    const geometry = makeGeometry({ sizeBytes: 16 * 2 ** 20, historyBytes: 16 * 4096 });
    const layout = computeLayout(geometry);
    const sb = { formatVersion: 2, formatRevision: 0, uuid: '0f1e2d3c-4b5a-4697-8877-665544332211', updateSeq: 7, geometry, layout, nodes: computeNodes(geometry), clean: false, bootGeneration: 3, profile: 'default', createdAtMs: 0 };
    assert.deepEqual([layout.sectionTable.startPfn, layout.freeArea.startPfn, layout.history.startPfn, layout.memmap.startPfn, layout.data.startPfn], [1, 2, 19, 35, 99]);
    const ringAt = 20 * 4096;

    const record = hex(`
      c2 | 00 00 00 00 | 2d | 03
      60 02 66 73 00 c8 01
      31 00 02 01
      06 80 22 07 00 02 de ad 03 02 be ef
      1a 00 01 02
      1b 00 05
      ac 00 08 03 01
      54 02 02`);
    // c2: a compact record, kind 2 (alloc), binary summary, undo kept; crc (below); totalBytes 45; bootGeneration 3.
    // Summary 60 (order 0, one block, no section initialised, an owner), owner "fs", node 0 × 3 + zone 0,
    // pfn 200 (varint c8 01): "alloc order 0 for fs → pfn 200, node 0 DMA32".
    // 31: section (type 1), fields freeFrames and allocatedFrames (bits 4, 5); section 0; old − newer +1, −1.
    // 06: bytes at 0x1100 (varint 80 22), 7 of them: no zeros, 2 bytes de ad; 3 zeros, 2 bytes be ef.
    // 1a: free area (type 2), head and count; list 0; head old − newer −1 (zigzag 01), count +1 (02).
    // 1b: descriptor (type 3) with fields, flags stored; pfn 200 (+0 from the summary's); flags 5 (PG_core | PG_buddy).
    // ac: link (type 4) against a prediction (form 1), next stored, a mask byte; pfn 200 (+0); mask 08
    //     (linkedGeneration); next 201 (zigzag(+1) + 1 = 03); linkedGeneration 3 − 1 (zigzag 01).
    // 54: link (type 4) against the newer record (form 2), prev stored; pfn 201 (+1, zigzag 02); prev 200 (zigzag(−1) + 1 = 02).
    const dv = dataView(record);
    const seq = new Uint8Array(8);
    dataView(seq).setUint32(0, 5, true); // step 5
    const withSeq = new Uint8Array([...seq, ...record]);
    dv.setUint32(1, docCrc(withSeq), true); // the crc field is still zero in withSeq

    // The state right after the allocation (the newer bytes), and the bytes it overwrote (the old ones).
    const section = (free: number, allocated: number) => hex(`03 00 00 00 | ${le32(free)} | ${le32(allocated)} | 63 00 00 00`); // generation 3, 99 reserved
    const area = (head: number, count: number) => hex(`${le32(head)} 00 00 00 00 | ${le32(count)} 00 00 00 00`);
    const link = (pfn: number, next: number, prev: number, generation: number) => encodeFreeLink({ pfn, next, prev, order: 0, node: 0, zone: 0, linkedGeneration: generation });
    const freeHead = encodeDescriptor({ flags: PG_CORE | PG_BUDDY, order: 0, node: 0, zone: 0, pfn: 200, refcount: 0, initGeneration: 3, owner: '', next: 0, prev: 0, volatileFlags: 0 });
    const allocated = encodeDescriptor({ flags: PG_CORE | PG_ALLOCATED, order: 0, node: 0, zone: 0, pfn: 200, refcount: 1, initGeneration: 3, owner: 'fs', next: 0, prev: 0, volatileFlags: 0 });
    const places = { section: 4096, bytes: 0x1100, area: 8192, descriptor: 35 * 4096 + 200 * 64, link200: 200 * 4096, link201: 201 * 4096 };
    const old = [
      { offset: places.section, data: section(314, 99) }, { offset: places.bytes, data: hex('de ad 00 00 00 be ef') }, { offset: places.area, data: area(200, 5) },
      { offset: places.descriptor, data: freeHead }, { offset: places.link200, data: link(200, 201, 0, 2) }, { offset: places.link201, data: link(201, 0, 200, 2) },
    ];
    const newer = new MemoryStore(16 * 2 ** 20);
    for (const [offset, data] of [[places.section, section(313, 100)], [places.area, area(201, 4)], [places.descriptor, allocated], [places.link201, link(201, 0, 0, 2)]] as const) newer.write(offset, data);
    newer.write(19 * 4096, historyHeader({ firstSeq: '05 00 00 00 00 00 00 00', nextSeq: '05 00 00 00 00 00 00 00', head: '00'.repeat(8), tail: '00'.repeat(8) }));

    // Encode: appending the allocation writes these bytes at ring offset 0.
    const ring = new HistoryRing(layout.history, undefined, sb);
    const summary = { text: 'alloc order 0 for fs → pfn 200, node 0 DMA32', order: 0, count: 1, owner: 'fs', pfns: [200], node: 0, zone: 0, initialisedSections: [] };
    assert.equal(ring.append(newer, 'alloc', 3, summary, old), 5);
    assertBytes(newer.read(ringAt, record.length), record, 'compact history record');
    assertBytes(newer.read(19 * 4096, 128), historyHeader({ firstSeq: '05 00 00 00 00 00 00 00', nextSeq: '06 00 00 00 00 00 00 00', head: '00'.repeat(8), tail: '2d 00 00 00 00 00 00 00' }), 'history header after the append');

    // Decode: the summary, and where each entry applies.
    const [r] = ring.records(newer, true);
    assert.deepEqual(r, {
      seq: 5, kind: 'alloc', bootGeneration: 3, summary, undoAvailable: true,
      undo: [[places.section, 16], [places.bytes, 7], [places.area, 16], [places.descriptor, 64], [places.link200, 48], [places.link201, 48]].map(([offset, length]) => ({ offset, length })),
    });
    // Undone over the newer bytes, the entries give the old bytes back.
    const patch = new PatchStore(newer);
    const target = new UndoTarget(patch);
    ring.undoAfter(ring.scan(newer), 4, target, () => {});
    target.finish();
    for (const o of old) assertBytes(patch.read(o.offset, o.data.length), o.data, `old bytes at ${o.offset}`);
  });
});

describe('format vectors from docs/FORMAT.md: the inverse undo entry (revision 2)', () => {
  const geometry = makeGeometry({ sizeBytes: 16 * 2 ** 20, historyBytes: 16 * 4096 });
  const sb = { formatVersion: 2, formatRevision: 2, uuid: '0f1e2d3c-4b5a-4697-8877-665544332211', updateSeq: 7, geometry, layout: computeLayout(geometry), nodes: computeNodes(geometry), clean: false, bootGeneration: 3, profile: 'default', createdAtMs: 0 };
  const ctx = undoContext(sb);
  const encoded = (entry: InverseEntry) => {
    const w = new ByteWriter();
    encodeInverse(w, 200, entry);
    return w.result();
  };
  const owner = (text: string) => {
    const b = new Uint8Array(16);
    b.set(new TextEncoder().encode(text));
    return b;
  };

  it('encodes a free (the inverse of an allocation) and an allocation again with its owner (the inverse of a free)', () => {
    // 07: type 7, tag bit 3 clear (free); pfn 200 (+0 from the summary's); order 0.
    assertBytes(encoded({ kind: 'free', pfn: 200, order: 0, ownerBytes: new Uint8Array(16) }), hex('07 00 00'), 'free');
    // 0f: type 7, tag bit 3 set (allocate); pfn 202 (zigzag(+2) = 04); order 1; owner "fs" (length 2).
    assertBytes(encoded({ kind: 'allocate', pfn: 202, order: 1, ownerBytes: owner('fs') }), hex('0f 04 01 02 66 73'), 'allocate');
    assertBytes(encoded({ kind: 'allocate', pfn: 196, order: 2, ownerBytes: owner('') }), hex('0f 07 02 00'), 'allocate, no owner');
  });

  it('encodes where the blocks it puts back stood in their lists (revision 4), and nothing more when every one stood at the head', () => {
    // 17: type 7, tag bit 4 (positions); pfn 200; order 0; one position: after pfn 196 (zigzag(196 − 200) + 1 = 8).
    assertBytes(encoded({ kind: 'free', pfn: 200, order: 0, ownerBytes: new Uint8Array(16), after: [196] }), hex('17 00 00 01 08'), 'free, placed');
    // 1f: allocate, placed; owner "fs"; two positions: the head (0), after pfn 300 (zigzag(+100) + 1 = 201: c9 01).
    assertBytes(encoded({ kind: 'allocate', pfn: 200, order: 0, ownerBytes: owner('fs'), after: [0, 300] }), hex('1f 00 00 02 66 73 02 00 c9 01'), 'allocate, placed');
    assertBytes(encoded({ kind: 'free', pfn: 200, order: 0, ownerBytes: new Uint8Array(16), after: [0] }), hex('07 00 00'), 'at the head: as revision 2 writes it');
  });

  it('decodes them without running them (a check of the history), and refuses a malformed one saying why', () => {
    const walk = (bytes: Uint8Array) => {
      const state: UndoState = { pfn: 200, generation: 3 };
      const spans: number[] = [];
      decodeUndo(bytes, 0, bytes.length, ctx, state, (offset) => void spans.push(offset), undefined);
      return { inverse: state.inverse, spans };
    };
    assert.deepEqual(walk(hex('07 00 00')), { inverse: true, spans: [] });
    assert.deepEqual(walk(hex('0f 04 01 02 66 73')), { inverse: true, spans: [] });
    assert.deepEqual(walk(hex('1f 00 00 02 66 73 02 00 c9 01')), { inverse: true, spans: [] });
    const refusal = (bytes: string, why: RegExp) => assert.throws(() => walk(hex(bytes)), (e: Error) => e instanceof CodecError && why.test(e.message), bytes);
    refusal('27 00 00', /unknown tag bits 0x20/);
    refusal('17 00 00 00', /names 0 list positions/);
    refusal(`17 00 00 01 ${zigzagHex(199)}`, /after pfn 1, outside the data region/); // zigzag(1 − 200) + 1 = 398
    refusal('0f 00 00 11', /owner of 17 bytes is invalid/);
    refusal('0f 00 00 05 66', /owner of 5 bytes is invalid/);
    refusal('07 02 01', /block 201 of order 1, which is not a block of the data region/); // misaligned
    refusal(`07 ${zigzagHex(-200)} 00`, /block 0 of order 0, which is not a block of the data region/);
  });
});

/** A zigzag varint as hex. */
function zigzagHex(n: number): string {
  const w = new ByteWriter();
  w.zigzag(n);
  return [...w.result()].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A little-endian u32 as hex, for vectors. */
function le32(v: number): string {
  return [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join(' ');
}

/** The field tables of docs/FORMAT.md: per `## ` section, each table's rows of numeric offset, size and field name. */
function documentTables(): Map<string, Array<Array<{ offset: number; size: number; field: string }>>> {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/FORMAT.md'), 'utf8');
  const out = new Map<string, Array<Array<{ offset: number; size: number; field: string }>>>();
  for (const section of doc.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf('\n'));
    const tables: Array<Array<{ offset: number; size: number; field: string }>> = [];
    let current: Array<{ offset: number; size: number; field: string }> | undefined;
    for (const line of section.split('\n')) {
      const cells = line.startsWith('|') ? line.split('|').slice(1, -1).map((c) => c.trim()) : undefined;
      if (!cells) {
        current = undefined;
        continue;
      }
      if (cells[0] === 'offset') tables.push((current = []));
      else if (current && /^\d+$/.test(cells[0]) && /^\d+$/.test(cells[1])) current.push({ offset: Number(cells[0]), size: Number(cells[1]), field: cells[2].replace(/\[\d+\]$/, '') });
    }
    out.set(title, tables);
  }
  return out;
}

describe('docs/FORMAT.md field tables agree with the code', () => {
  const tables = documentTables();
  const cases: Array<[title: string, table: number, offsets: Record<string, number>, size: number]> = [
    ['Superblock (4096 bytes at byte 0; backup copy at byte sizeBytes − 4096)', 0, SB, SUPERBLOCK_SIZE],
    ['Core descriptor (64 bytes; memmap byte offset memmap.startPfn × 4096 + pfn × 64)', 0, DESC, DESCRIPTOR_SIZE],
    ['Section table (16 bytes per section at sectionTable.startPfn × 4096 + s × 16)', 0, SECTION, SECTION_ENTRY_SIZE],
    ['Free area (16 bytes per list at freeArea.startPfn × 4096 + index × 16)', 0, FREE_AREA, FREE_AREA_ENTRY_SIZE],
    ['Free-list link record (48 bytes at pfn × 4096, in the free block itself)', 0, LINK, FREE_LINK_SIZE],
    ['Journal (journal region)', 0, JH, JOURNAL_HEADER_SIZE],
    ['History (history region)', 0, HH, HISTORY_HEADER_SIZE],
    ['History (history region)', 1, CR_FIXED, 5],
    ['History (history region)', 2, HR, RECORD_HEADER_SIZE],
    ['Two-word descriptors (two-word images: 16 bytes per frame at memmap.startPfn × 4096 + pfn × 16)', 0, TWO_WORD, TWO_WORD_SIZE],
  ];
  for (const [title, index, offsets, size] of cases) {
    it(`${title.replace(/ \(.*/, '')}${['', ' compact record (fixed part)', ' first-format record'][index]}: every field at the offset the code uses, no gaps or overlaps`, () => {
      const rows = tables.get(title)?.[index];
      assert.ok(rows && rows.length > 0, `no field table under "## ${title}" in docs/FORMAT.md`);
      let end = 0;
      for (const row of rows) {
        assert.equal(row.offset, end, `${row.field} starts at ${row.offset}, the previous field ends at ${end}`);
        end = row.offset + row.size;
      }
      // A history record's variable-length summary and undo (size "…") follow its fixed header.
      assert.equal(end, size, 'the fields add up to the structure size');
      const named = rows.filter((r) => r.field !== 'reserved');
      assert.deepEqual(Object.fromEntries(named.map((r) => [r.field, r.offset])), { ...offsets }, 'field names and offsets');
    });
  }
});

describe('format vectors from docs/FORMAT.md: the designs\' own structures', () => {
  /** A 64 MiB image's layout with the memmap region starting at frame `startPfn` (only where the region starts matters). */
  const at = (startPfn: number) => ({ memmap: { startPfn, frames: 64 } });

  it('two-word: an allocated head of order 3 owned by "web", a free head of order 5, at memmap.startPfn × 4096 + pfn × 16', () => {
    const allocated = hex('01 03 00 00 00 00 00 00 | 77 65 62 00 00 00 00 00');
    const free = hex('02 05 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00');
    assert.deepEqual(decodeTwoWord(allocated, 0), { state: 1, order: 3, owner: 'web' });
    assert.deepEqual(decodeTwoWord(free, 0), { state: 2, order: 5, owner: '' });
    // The engine's index (core descriptors) projected to two words: heads keep state, order and owner, other frames are zero.
    const index = new Uint8Array(3 * DESCRIPTOR_SIZE);
    index.set(encodeDescriptor({ flags: PG_CORE | PG_ALLOCATED, order: 3, node: 0, zone: 1, pfn: 800, refcount: 1, initGeneration: 2, owner: 'web', next: 0, prev: 0, volatileFlags: 0 }), 0);
    index.set(encodeDescriptor({ flags: PG_CORE, order: 0, node: 0, zone: 1, pfn: 801, refcount: 0, initGeneration: 2, owner: '', next: 0, prev: 0, volatileFlags: 0 }), DESCRIPTOR_SIZE);
    index.set(encodeDescriptor({ flags: PG_CORE | PG_BUDDY, order: 5, node: 0, zone: 1, pfn: 802, refcount: 0, initGeneration: 2, owner: '', next: 0, prev: 0, volatileFlags: 0 }), 2 * DESCRIPTOR_SIZE);
    const words = projectTwoWords(index);
    assertBytes(words.subarray(0, 16), allocated, 'allocated head');
    assertBytes(words.subarray(16, 32), new Uint8Array(16), 'a block\'s other frame');
    assertBytes(words.subarray(32, 48), free, 'free head');
    assert.equal(twoWordOffset(at(40), 800), 40 * 4096 + 800 * 16);
  });

  it('memdesc: a page word of type 1 pointing to pool slot 0x123, the words at memmap.startPfn × 4096 + pfn × 8, the pool after them', () => {
    // Type in bits 60-63 (the top nibble of byte 7), the slot in bits 0-59, little-endian.
    const word = hex('23 01 00 00 00 00 00 10');
    assert.deepEqual(decodeMemdescWord(word, 0), { type: 1, slot: 0x123 });
    assertBytes(allocationWords(0x123, 2), hex('23 01 00 00 00 00 00 10 | 23 01 00 00 00 00 00 10'), 'every page of the allocation');
    assert.deepEqual(decodeMemdescWord(hex('00 00 00 00 00 00 00 00'), 0), { type: 0, slot: 0 });
    assert.equal(memdescWordOffset(at(40), 1000), 40 * 4096 + 1000 * 8);
    // 16,384 frames (64 MiB): ceil(16384 × 8 / 4096) = 32 frames of words, then slot 5 at 5 × 64.
    assert.equal(memdescSlotOffset(at(40), 16384, 5), (40 + 32) * 4096 + 5 * 64);
    assert.equal(memdescSlotOffset(at(40), 16385, 0), (40 + 33) * 4096, 'a partial page of words takes a whole page');
  });

  it('2m: the unit descriptor of a pfn at memmap.startPfn × 4096 + floor(pfn / 512) × 64', () => {
    assert.equal(unitOffset(at(40), 1536), 40 * 4096 + 3 * 64);
    assert.equal(unitOffset(at(40), 2047), 40 * 4096 + 3 * 64, 'every frame of a unit: its one descriptor');
    assert.equal(unitOffset(at(40), 2048), 40 * 4096 + 4 * 64);
  });
});
