/**
 * A boot rebuilds a section of the engine's index in RAM from the free
 * blocks' link records (alloc/sectionInit.ts); the designs that keep
 * allocated blocks on the device other than core64 then give those back:
 * 2m from its unit descriptors, two-word from its allocator and allocatee
 * words, memdesc from its pages' words and the pool. Each frame of such a
 * block becomes the block again (its head with order and owner, the rest
 * plain) instead of a single frame of unknown owner. Link records win: a
 * frame they say is free stays free.
 */
import { DESCRIPTOR_SIZE } from '../format/constants';
import { utf8Fit } from '../core/bytes';
import { decodeDescriptor, encodeDescriptorInto, OWNER_BYTES, PG_ALLOCATED, PG_BUDDY, PG_CORE } from '../format/descriptor';
import { MEMDESC_WORD, memdescWordOffset } from '../format/memdesc';
import { decodeTwoWord, TWO_WORD_ALLOCATED, TWO_WORD_SIZE, twoWordOffset } from '../format/twoWord';
import { allocationOf, hasMemdescs } from './memdescs';
import type { Geometry, Layout } from '../format/layout';
import { hasUnitDescriptors, UNIT_FRAMES, unitBlockAt } from './units2m';

type Read = (offset: number, length: number) => Uint8Array;
type SectionGeometry = { geometry: Geometry; layout: Layout };

/** The section's descriptors `out` (its first frame `first`), its data frames [start, end), restored for the image's design. */
export function restoreBlocks(sg: SectionGeometry, read: Read, out: Uint8Array, first: number, start: number, end: number): void {
  if (end <= start) return;
  const g = sg.geometry;
  if (hasUnitDescriptors(g)) restoreUnits(sg, read, out, first, start, end);
  else if (g.descriptors === 'twoWord') restoreTwoWords(sg, read, out, first, start, end);
  else if (hasMemdescs(g)) restoreMemdescs(sg, read, out, first, start, end);
}

/** Marks frames [from, the block's end or `end`) as the block at `head`; returns where it stopped. */
function markBlock(out: Uint8Array, first: number, from: number, end: number, head: number, order: number, owner: string): number {
  const stop = Math.min(end, head + 2 ** order);
  // An owner read from the design's bytes that are not UTF-8 decodes to replacement characters (3 bytes each): cut to the field, between characters.
  const fitted = utf8Fit(owner, OWNER_BYTES);
  for (let q = from; q < stop; q++) {
    const at = (q - first) * DESCRIPTOR_SIZE;
    const d = decodeDescriptor(out, at);
    if (d.flags & PG_BUDDY) continue;
    if (q === head) Object.assign(d, { flags: PG_CORE | PG_ALLOCATED, order, owner: fitted, refcount: 1 });
    else Object.assign(d, { flags: PG_CORE, order: 0, owner: '', refcount: 0 });
    encodeDescriptorInto(d, out, at);
  }
  return stop;
}

/** 2m: the head unit of the block covering each unit. */
function restoreUnits(sg: SectionGeometry, read: Read, out: Uint8Array, first: number, start: number, end: number): void {
  for (let p = start; p < end; ) {
    const b = unitBlockAt(read, sg.layout, sg.geometry.maxOrder, p);
    p = b ? markBlock(out, first, Math.max(p, b.pfn), end, b.pfn, b.order, b.owner) : p - (p % UNIT_FRAMES) + UNIT_FRAMES;
  }
}

/** two-word: the allocated heads, and a block that starts in an earlier section (found from its aligned head). */
function restoreTwoWords(sg: SectionGeometry, read: Read, out: Uint8Array, first: number, start: number, end: number): void {
  const words = read(twoWordOffset(sg.layout, start), (end - start) * TWO_WORD_SIZE);
  for (let o = 1; o <= sg.geometry.maxOrder; o++) {
    const q = start - (start % 2 ** o);
    if (q === start) continue;
    const w = decodeTwoWord(read(twoWordOffset(sg.layout, q), TWO_WORD_SIZE), 0);
    if (w.state === TWO_WORD_ALLOCATED && w.order === o && q + 2 ** o > start) {
      markBlock(out, first, start, end, q, o, w.owner);
      break;
    }
  }
  for (let p = start; p < end; p++) {
    const w = decodeTwoWord(words, (p - start) * TWO_WORD_SIZE);
    if (w.state === TWO_WORD_ALLOCATED && w.order <= sg.geometry.maxOrder && p % 2 ** w.order === 0) p = markBlock(out, first, p, end, p, w.order, w.owner) - 1;
  }
}

/** memdesc: every page's word names its allocation's descriptor in the pool. */
function restoreMemdescs(sg: SectionGeometry, read: Read, out: Uint8Array, first: number, start: number, end: number): void {
  const words = read(memdescWordOffset(sg.layout, start), (end - start) * MEMDESC_WORD);
  for (let p = start; p < end; ) {
    const b = allocationOf(read, sg, words, (p - start) * MEMDESC_WORD);
    p = b && p >= b.pfn && p < b.pfn + 2 ** b.order ? markBlock(out, first, p, end, b.pfn, b.order, b.owner) : p + 1;
  }
}
