/**
 * Lazy initialisation, a section at a time (as deferred struct page init does
 * for DRAM). A never-initialised section is handed to the allocator: fresh
 * descriptors, then its data frames freed in maximal blocks. A stale section
 * (initialised in an earlier boot) is re-initialised: persistent facts kept,
 * volatile ones reset, free-block links verified.
 */
import { restoreBlocks } from './restoreBlocks';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import {
  checkDescriptorBytes, CORE_VERSION, decodeDescriptor, DESC, descriptorCrcTable, descriptorWords, encodeDescriptor, encodeDescriptorInto, isBlank, KNOWN_FLAGS, OWNER_BYTES,
  PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_FREEING, PG_RESERVED, sealDescriptor, sealDescriptors, stampDescriptors, WORDS_ARE_LITTLE_ENDIAN,
} from '../format/descriptor';
import { crc32 } from '../core/bytes';
import { decodeFreeLink, FREE_LINK_SIZE } from '../format/freeLink';
import { Geometry, Layout, NodeInfo, nodeZoneOf } from '../format/layout';
import type { Txn } from '../image/txn';

export interface SectionGeometry {
  geometry: Geometry;
  layout: Layout;
  nodes: NodeInfo[];
}

export function sectionOf(g: Geometry, pfn: number): number {
  return Math.floor(pfn / g.sectionFrames);
}

export function isReservedPfn(layout: Layout, pfn: number): boolean {
  return pfn < layout.data.startPfn || pfn >= layout.backupSuperblock.startPfn;
}

/** Data frames of a section: [start, end), possibly empty. */
export function sectionDataRange(sg: SectionGeometry, s: number): { start: number; end: number } {
  const a = s * sg.geometry.sectionFrames;
  const start = Math.max(a, sg.layout.data.startPfn);
  const end = Math.min(a + sg.geometry.sectionFrames, sg.layout.data.startPfn + sg.layout.data.frames);
  return { start, end: Math.max(start, end) };
}

/** Descriptors of a section as initialisation writes them: core flag, reserved where due, node/zone, pfn. */
export function freshSectionDescriptors(sg: SectionGeometry, s: number, generation: number, into?: Uint8Array): Uint8Array {
  const frames = sg.geometry.sectionFrames;
  const first = s * frames;
  const { node, zone } = nodeZoneOf(sg.nodes, first); // a section never straddles a node or zone
  // Every byte of `into` is written below (each descriptor stamped whole).
  const out = into ?? new Uint8Array(frames * DESCRIPTOR_SIZE);
  const plain = encodeDescriptor({ flags: PG_CORE, order: 0, node, zone, pfn: 0, refcount: 0, initGeneration: generation, owner: '', next: 0, prev: 0, volatileFlags: 0 });
  stampDescriptors(out, plain, first);
  // Metadata frames lie at the start of the device and in its last frame: a few sections have any.
  const { start, end } = sectionDataRange(sg, s);
  for (let i = 0; i < frames; i++) {
    const pfn = first + i;
    if (pfn >= start && pfn < end) {
      i = end - first - 1;
      continue;
    }
    if (!isReservedPfn(sg.layout, pfn)) continue;
    out[i * DESCRIPTOR_SIZE + DESC.flags] = PG_CORE | PG_RESERVED;
    sealDescriptor(out, i * DESCRIPTOR_SIZE);
  }
  return out;
}

/**
 * Rebuilds a section's descriptors from what persists on the device when the
 * memmap lives in RAM: the free blocks' link records. Everything else the
 * allocator handed out reads as allocated order-0 frames of unknown owner,
 * because with a volatile memmap nothing on the device remembers more.
 */
export function rebuildRamSection(sg: SectionGeometry, read: (offset: number, length: number) => Uint8Array, s: number, generation: number): Uint8Array {
  const g = sg.geometry;
  const out = freshSectionDescriptors(sg, s, generation);
  const first = s * g.sectionFrames;
  const { start, end } = sectionDataRange(sg, s);
  const sectionOrder = Math.log2(g.sectionFrames);
  for (let o = sectionOrder + 1; o <= g.maxOrder; o++) {
    const q = first - (first % 2 ** o);
    if (q === first) continue;
    const l = decodeFreeLink(read(q * PAGE_SIZE, FREE_LINK_SIZE));
    if (l.ok && l.link.pfn === q && l.link.order === o) return out; // inside a larger free block
  }
  let p = start;
  while (p < end) {
    const i = (p - first) * DESCRIPTOR_SIZE;
    const d = decodeDescriptor(out, i);
    const l = decodeFreeLink(read(p * PAGE_SIZE, FREE_LINK_SIZE));
    if (l.ok && l.link.pfn === p && l.link.order <= g.maxOrder && p % 2 ** l.link.order === 0 && p + 2 ** l.link.order <= sg.layout.data.startPfn + sg.layout.data.frames) {
      d.flags = PG_CORE | PG_BUDDY;
      d.order = l.link.order;
      encodeDescriptorInto(d, out, i);
      p += 2 ** l.link.order;
    } else {
      d.flags = PG_CORE | PG_ALLOCATED;
      d.refcount = 1;
      encodeDescriptorInto(d, out, i);
      p++;
    }
  }
  // Designs that keep allocated blocks on the device (other than core64) give them back to the index.
  restoreBlocks(sg, read, out, first, start, end);
  return out;
}

/** True when an owner field is ASCII and, after its first NUL, all NULs: it decodes and encodes back to itself. */
function plainOwner(bytes: Uint8Array, at: number): boolean {
  let ended = false;
  for (let i = at; i < at + OWNER_BYTES; i++) {
    const v = bytes[i];
    if (v > 0x7f || (ended && v !== 0)) return false;
    if (v === 0) ended = true;
  }
  return true;
}

/** Notes a free block whose link record does not describe it. */
function checkLinkRecord(txn: Txn, pfn: number, order: number): void {
  const l = decodeFreeLink(txn.read(pfn * PAGE_SIZE, FREE_LINK_SIZE));
  if (!l.ok || l.link.pfn !== pfn || l.link.order !== order) txn.notes.push(`pfn ${pfn}: free block's link record is ${l.ok ? 'for another block' : 'missing'}`);
}

/** Makes a section usable in this boot. Returns false for a never-initialised section (not handed over). */
export function ensureSectionReady(txn: Txn, s: number): boolean {
  const state = txn.sectionState(s);
  if (state === 'initialized') return true;
  if (state === 'never') return false;
  reinitStaleSection(txn, s);
  return true;
}

function reinitStaleSection(txn: Txn, s: number): void {
  const img = txn.img;
  const g = img.geometry;
  const gen = img.bootGeneration;
  const entry = txn.section(s);
  if (g.memmap === 'ram') {
    txn.ramSections.set(s, rebuildRamSection(img, (o, l) => txn.read(o, l), s, gen));
    txn.setSection(s, { ...entry, initGeneration: gen });
    return;
  }
  const first = s * g.sectionFrames;
  const raw = txn.read(img.memmapOffset(first), g.sectionFrames * DESCRIPTOR_SIZE);
  const fresh = freshSectionDescriptors(img, s, gen);
  const words = WORDS_ARE_LITTLE_ENDIAN ? { raw: descriptorWords(raw), fresh: descriptorWords(fresh) } : undefined;
  const T = descriptorCrcTable();
  // The computed CRC of the last descriptor checked on the fast path (its word index, -1 for none): the next one's follows from it.
  let prev = -1;
  let prevCrc = 0;
  for (let i = 0; i < g.sectionFrames; i++) {
    const pfn = first + i;
    const at = i * DESCRIPTOR_SIZE;
    if (isBlank(raw, at)) {
      if (!isReservedPfn(img.layout, pfn)) txn.notes.push(`pfn ${pfn}: descriptor was blank in a stale section; re-initialised as plain`);
      continue;
    }
    if (words) {
      // Fast path, on words: a descriptor that checkDescriptorBytes passes and whose owner tag is ASCII
      // padded with zeros takes the fields below as they are, which is what decoding and encoding give.
      const r = words.raw;
      const b = i * 16;
      let c: number;
      if (prev < 0) c = crc32(raw.subarray(at, at + DESC.crc)) | 0;
      else {
        c = prevCrc;
        for (let k = 0; k < 15; k++) {
          const x = r[b + k] ^ r[prev + k];
          if (x !== 0) c ^= T[k * 1024 + (x & 255)] ^ T[k * 1024 + 256 + ((x >>> 8) & 255)] ^ T[k * 1024 + 512 + ((x >>> 16) & 255)] ^ T[k * 1024 + 768 + (x >>> 24)];
        }
      }
      prev = b;
      prevCrc = c;
      const f = r[b];
      const valid = c === r[b + 15] && r[b + 1] >>> 24 === CORE_VERSION && (f & ~KNOWN_FLAGS) === 0 && (f & PG_CORE) !== 0
        && ((r[b + 3] | r[b + 11] | r[b + 13]) & ~0x1f_ffff) === 0 // pfn, next and prev below 2^53
        && plainOwner(raw, at + DESC.owner);
      if (valid) {
        const w = words.fresh;
        w[b] |= f & (PG_BUDDY | PG_ALLOCATED | PG_FREEING); // a mark of a free under way is persistent
        w[b + 1] = (w[b + 1] & ~255) | (r[b + 1] & 255); // order
        w[b + 4] = f & PG_ALLOCATED ? 1 : 0; // refcount, volatile: one reference per allocated block
        for (let k = 6; k < 14; k++) w[b + k] = r[b + k]; // owner, next, prev
        if (g.links === 'page' && f & PG_BUDDY) checkLinkRecord(txn, pfn, r[b + 1] & 255);
        continue;
      }
    }
    const check = checkDescriptorBytes(raw, at);
    if (!check.ok) {
      txn.notes.push(`pfn ${pfn}: ${check.field} ${check.reason}; re-initialised as plain`);
      continue;
    }
    const old = decodeDescriptor(raw, at);
    const d = decodeDescriptor(fresh, at);
    d.flags |= old.flags & (PG_BUDDY | PG_ALLOCATED | PG_FREEING);
    d.order = old.order;
    d.owner = old.owner;
    d.next = old.next;
    d.prev = old.prev;
    d.refcount = old.flags & PG_ALLOCATED ? 1 : 0; // volatile: one reference per allocated block
    if (g.links === 'page' && old.flags & PG_BUDDY) checkLinkRecord(txn, pfn, old.order);
    encodeDescriptorInto(d, fresh, at);
  }
  sealDescriptors(fresh, 0, g.sectionFrames);
  txn.bulkWrite(img.memmapOffset(first), fresh, true); // a torn write here would lose owners and orders
  txn.setSection(s, { ...entry, initGeneration: gen });
}
