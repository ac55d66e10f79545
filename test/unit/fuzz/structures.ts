/**
 * Where each on-media structure of a built image lies, byte by byte, and how
 * to keep its checksum valid after an edit: the targets of aimed mutations.
 */
import { blocks, PAGE_SIZE, PmemImage, sections } from '../../../src/engine';
import { crc32 } from '../../../src/engine/core/bytes';
import { DESC } from '../../../src/engine/format/descriptor';
import { FREE_LINK_SIZE, LINK } from '../../../src/engine/format/freeLink';
import { ByteReader, varintSize } from '../../../src/engine/format/compact';
import { compactRecordCrc, CR, HH, HISTORY_HEADER_SIZE } from '../../../src/engine/format/history';
import { JH, JOURNAL_HEADER_SIZE } from '../../../src/engine/format/journal';
import { FREE_AREA_ENTRY_SIZE, freeAreaEntries, SECTION_ENTRY_SIZE } from '../../../src/engine/format/layout';
import { SB, SUPERBLOCK_SIZE } from '../../../src/engine/format/superblock';
import { storeOf } from './images';
import { TWO_WORD_SIZE, twoWordOffset } from '../../../src/engine/format/twoWord';
import { decodeMemdescWord, MEMDESC_WORD, memdescSlotOffset, memdescWordOffset } from '../../../src/engine/format/memdesc';
import { unitOffset } from '../../../src/engine/alloc/units2m';

export const STRUCTURES = [
  'superblock', 'backupSuperblock', 'sectionTable', 'freeArea', 'freeLink', 'journalHeader', 'journalPayload',
  'historyHeader', 'historyRecord', 'descriptorAllocated', 'descriptorFree', 'descriptorReserved', 'descriptorNever',
  // The designs' own structures (docs/FORMAT.md): two-word words of allocated and free heads, memdesc page words and pool slots, 2m unit heads.
  'twoWordAllocated', 'twoWordFree', 'memdescWord', 'memdescSlot', 'unitDescriptor',
] as const;
export type StructureName = (typeof STRUCTURES)[number];

/** One instance of a structure: its bytes in the image and how its checksum is recomputed. */
export interface Instance {
  structure: StructureName;
  offset: number;
  length: number;
  /** Recomputes the instance's checksum in `bytes` (the whole image); absent where the format has none. */
  fixCrc?: (bytes: Uint8Array) => void;
  /** Descriptor or free-link instances: the frame described. */
  pfn?: number;
  /** History records: where their parts start, from the record's first byte. */
  fields?: { generation: number; undo: number; undoEnd: number };
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const crcAt = (offset: number, covered: number) => (bytes: Uint8Array) => {
  dv(bytes).setUint32(offset + covered, crc32(bytes.subarray(offset, offset + covered)), true);
};

/** Every structure instance of a valid image (lists are cut to a few instances of each kind). */
export function structuresOf(bytes: Uint8Array, perStructure = 6): Instance[] {
  const img = PmemImage.open(storeOf(bytes), { readOnly: true });
  const L = img.layout;
  const g = img.geometry;
  const out: Instance[] = [];
  const few = <T>(xs: T[], n = perStructure) => (xs.length <= n ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / n) === 0));

  out.push({ structure: 'superblock', offset: 0, length: SUPERBLOCK_SIZE, fixCrc: crcAt(0, SB.crc) });
  const backup = L.backupSuperblock.startPfn * PAGE_SIZE;
  out.push({ structure: 'backupSuperblock', offset: backup, length: SUPERBLOCK_SIZE, fixCrc: crcAt(backup, SB.crc) });
  out.push({ structure: 'sectionTable', offset: L.sectionTable.startPfn * PAGE_SIZE, length: g.sectionCount * SECTION_ENTRY_SIZE });
  out.push({ structure: 'freeArea', offset: L.freeArea.startPfn * PAGE_SIZE, length: freeAreaEntries(g) * FREE_AREA_ENTRY_SIZE });
  const journal = L.journal.startPfn * PAGE_SIZE;
  out.push({ structure: 'journalHeader', offset: journal, length: JOURNAL_HEADER_SIZE, fixCrc: crcAt(journal, JH.crc) });
  out.push({ structure: 'journalPayload', offset: journal + JOURNAL_HEADER_SIZE, length: 256 });
  const history = L.history.startPfn * PAGE_SIZE;
  out.push({ structure: 'historyHeader', offset: history, length: HISTORY_HEADER_SIZE, fixCrc: crcAt(history, HH.crc) });
  // Records as the ring walk finds them; a record's checksum covers its step number and its (possibly edited) length.
  const scan = img.history.scan(img.store);
  const records: Instance[] = [];
  for (let i = 0; i < scan.count; i++) {
    const info = img.history.recordInfo(scan, i);
    const at = img.history.ringStart + info.pos;
    records.push({
      structure: 'historyRecord', offset: at, length: info.totalBytes,
      fields: { generation: CR.totalBytes + varintSize(info.totalBytes), undo: info.undoAt - info.pos, undoEnd: info.undoEnd - info.pos },
      fixCrc: (b) => {
        let size: number;
        try {
          size = new ByteReader(b, at + CR.totalBytes, at + CR.totalBytes + 8).varint();
        } catch {
          size = info.totalBytes;
        }
        const record = b.subarray(at, Math.min(at + Math.max(size, CR.totalBytes + 1), b.length));
        dv(b).setUint32(at + CR.crc, compactRecordCrc(info.seq, record), true);
      },
    });
  }
  out.push(...few(records));

  const free: number[] = [];
  const allocated: number[] = [];
  const never: number[] = [];
  const neverSections = new Set<number>();
  for (const s of sections(img)) {
    if (s.state === 'never') {
      never.push(s.firstPfn + s.frames - 1);
      neverSections.add(s.index);
      continue;
    }
    for (const b of blocks(img, s.firstPfn, s.frames)) (b.free ? free : allocated).push(b.pfn);
  }
  if (g.links === 'page') {
    for (const pfn of few(free)) out.push({ structure: 'freeLink', pfn, offset: pfn * PAGE_SIZE, length: FREE_LINK_SIZE, fixCrc: crcAt(pfn * PAGE_SIZE, LINK.crc) });
  }
  if (g.memmap === 'device') {
    const desc = (structure: StructureName, pfn: number): Instance => ({ structure, pfn, offset: img.memmapOffset(pfn), length: 64, fixCrc: crcAt(img.memmapOffset(pfn), DESC.crc) });
    for (const pfn of few(allocated)) out.push(desc('descriptorAllocated', pfn));
    for (const pfn of few(free)) out.push(desc('descriptorFree', pfn));
    // A reserved frame in a never-initialised section (the backup superblock's, say) has a descriptor of no meaning yet.
    for (const pfn of few([0, 1, L.memmap.startPfn, L.data.startPfn - 1, L.backupSuperblock.startPfn])) {
      out.push(desc(neverSections.has(Math.floor(pfn / g.sectionFrames)) ? 'descriptorNever' : 'descriptorReserved', pfn));
    }
    for (const pfn of few(never)) out.push(desc('descriptorNever', pfn));
  }
  out.push(...designStructures(img, few(allocated), few(free)));
  img.store.close();
  return out;
}

/** The design's own structures for a few allocated and free heads. */
function designStructures(img: PmemImage, allocated: number[], free: number[]): Instance[] {
  const { geometry: g, layout: L } = img;
  const out: Instance[] = [];
  if (g.descriptors === 'twoWord') {
    const word = (structure: StructureName, pfn: number): Instance => ({ structure, pfn, offset: twoWordOffset(L, pfn), length: TWO_WORD_SIZE });
    for (const pfn of allocated) out.push(word('twoWordAllocated', pfn));
    for (const pfn of free) out.push(word('twoWordFree', pfn));
  } else if (g.descriptors === 'memdesc') {
    for (const pfn of allocated) {
      const offset = memdescWordOffset(L, pfn);
      out.push({ structure: 'memdescWord', pfn, offset, length: MEMDESC_WORD });
      const slot = memdescSlotOffset(L, g.totalFrames, decodeMemdescWord(img.store.read(offset, MEMDESC_WORD), 0).slot);
      out.push({ structure: 'memdescSlot', pfn, offset: slot, length: 64, fixCrc: crcAt(slot, DESC.crc) });
    }
  } else if (g.descriptors === 'unit2m') {
    for (const pfn of allocated) out.push({ structure: 'unitDescriptor', pfn, offset: unitOffset(L, pfn), length: 64, fixCrc: crcAt(unitOffset(L, pfn), DESC.crc) });
  }
  return out;
}
