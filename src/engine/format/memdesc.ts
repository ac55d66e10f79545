/**
 * The memdesc design (Linux's plan, Matthew Wilcox's memdescs): an 8-byte
 * word per page on the device, a 4-bit type and a 60-bit value, and a pool of
 * descriptors on the device, one per allocation (not per page), that the
 * words of the allocation's pages point to (docs/FORMAT.md, *Memdescs*).
 * The memmap region holds the words, then the pool.
 */
import { dataView } from '../core/bytes';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from './constants';

export const MEMDESC_WORD = 8;
/** Word types (the top 4 bits): none, or a page of an allocation whose descriptor is the pool slot in the value. */
export const MEMDESC_NONE = 0;
export const MEMDESC_ALLOCATION = 1;
/** The pool holds one descriptor per this many pages: 4 bytes a page, beside the word's 8. */
export const PAGES_PER_POOL_SLOT = 16;

export const memdescWordFrames = (totalFrames: number): number => Math.ceil((totalFrames * MEMDESC_WORD) / PAGE_SIZE);
export const memdescPoolSlots = (totalFrames: number): number => Math.ceil(totalFrames / PAGES_PER_POOL_SLOT);
export const memdescPoolFrames = (totalFrames: number): number => Math.ceil((memdescPoolSlots(totalFrames) * DESCRIPTOR_SIZE) / PAGE_SIZE);

/** Where the memmap region starts (the layout's, passed in: the layout is computed from this file's sizes). */
type MemmapAt = { memmap: { startPfn: number } };

export function memdescWordOffset(layout: MemmapAt, pfn: number): number {
  return layout.memmap.startPfn * PAGE_SIZE + pfn * MEMDESC_WORD;
}

export function memdescSlotOffset(layout: MemmapAt, totalFrames: number, slot: number): number {
  return (layout.memmap.startPfn + memdescWordFrames(totalFrames)) * PAGE_SIZE + slot * DESCRIPTOR_SIZE;
}

/** The words of `count` pages of one allocation, all pointing to `slot`. */
export function allocationWords(slot: number, count: number): Uint8Array {
  const out = new Uint8Array(count * MEMDESC_WORD);
  const dv = new DataView(out.buffer);
  // Type in the top 4 bits of the little-endian word; the slot below it (well within 32 bits here).
  for (let i = 0; i < count; i++) {
    dv.setUint32(i * MEMDESC_WORD, slot, true);
    dv.setUint32(i * MEMDESC_WORD + 4, MEMDESC_ALLOCATION << 28, true);
  }
  return out;
}

/** A word's type and value (the value read as a pool slot: below 2^32 on any supported device). */
export function decodeMemdescWord(bytes: Uint8Array, at: number): { type: number; slot: number } {
  const dv = dataView(bytes);
  const high = dv.getUint32(at + 4, true);
  return { type: high >>> 28, slot: dv.getUint32(at, true) + (high & 0x0fff_ffff) * 2 ** 32 };
}
