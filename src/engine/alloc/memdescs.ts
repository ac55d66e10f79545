/**
 * The memdesc design's allocations (format/memdesc.ts): each block takes a
 * descriptor from the pool on the device, and every page of it gets a word
 * pointing there; a free gives both back. Written through the transaction, so
 * they are as crash-atomic as the allocation itself. When the pool is full an
 * allocation fails, as a kernel's would when it cannot allocate the memdesc.
 */
import { OperationError, UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import { checkDescriptorBytes, decodeDescriptor, Descriptor, encodeDescriptorInto, isBlank, PG_ALLOCATED, PG_CORE } from '../format/descriptor';
import type { Geometry, Layout } from '../format/layout';
import { allocationWords, decodeMemdescWord, MEMDESC_ALLOCATION, MEMDESC_WORD, memdescPoolSlots, memdescSlotOffset, memdescWordOffset } from '../format/memdesc';

interface Io {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, bytes: Uint8Array): void;
}
interface Where {
  geometry: Geometry;
  layout: Layout;
}

export const hasMemdescs = (g: Pick<Geometry, 'descriptors'>): boolean => g.descriptors === 'memdesc';

/** Where each image's search for a free slot starts: only a hint, the pool on the device decides. */
const hints = new WeakMap<object, number>();
/** Slots read at a time while searching. */
const SLOTS_A_READ = 64;

/** A free slot of the pool (the search starts where the last ended); an OperationError, before anything is written, when there is none. */
export function freeSlot(txn: Io, img: Where & object): number {
  const slots = memdescPoolSlots(img.geometry.totalFrames);
  const start = hints.get(img) ?? 0;
  for (let seen = 0; seen < slots; ) {
    const first = (start + seen) % slots;
    const n = Math.min(SLOTS_A_READ, slots - first, slots - seen);
    const bytes = txn.read(memdescSlotOffset(img.layout, img.geometry.totalFrames, first), n * DESCRIPTOR_SIZE);
    for (let i = 0; i < n; i++) {
      if (isBlank(bytes, i * DESCRIPTOR_SIZE)) {
        hints.set(img, (first + i + 1) % slots);
        return first + i;
      }
    }
    seen += n;
  }
  throw new OperationError(`the memdesc pool is full: its ${slots.toLocaleString('en-US')} descriptors (one per ${16} pages) are all in use by allocations (nothing was allocated)`);
}

/**
 * Every page of an allocation gets its word in the same transaction: a block
 * whose words are more than half the journal could never commit, and is
 * refused, saying why, before anything is done.
 */
export function refuseWordsBeyondJournal(img: Where, order: number): void {
  const words = 2 ** order * MEMDESC_WORD;
  const journal = img.layout.journal.frames * PAGE_SIZE;
  if (words > journal / 2) {
    throw new UsageError(`a memdesc image writes a word for every page of an allocation: order ${order} takes ${words / 1024} KiB of words, more than one operation can carry through this image's ${journal / 1024} KiB journal (order ${Math.floor(Math.log2(journal / 2 / MEMDESC_WORD))} at most)`);
  }
}

/** Gives the block a descriptor from the pool and points each of its pages' words at it. */
export function writeAllocation(txn: Io, img: Where & object, d: Pick<Descriptor, 'pfn' | 'order' | 'node' | 'zone' | 'owner' | 'initGeneration'>, slot = freeSlot(txn, img)): void {
  const desc = new Uint8Array(DESCRIPTOR_SIZE);
  encodeDescriptorInto({ flags: PG_CORE | PG_ALLOCATED, order: d.order, node: d.node, zone: d.zone, pfn: d.pfn, refcount: 1, initGeneration: d.initGeneration, owner: d.owner, next: 0, prev: 0, volatileFlags: 0 }, desc, 0);
  txn.write(memdescSlotOffset(img.layout, img.geometry.totalFrames, slot), desc);
  txn.write(memdescWordOffset(img.layout, d.pfn), allocationWords(slot, 2 ** d.order));
}

/** Gives back the descriptor of the block at `pfn` and clears its pages' words. */
export function clearAllocation(txn: Io, img: Where, pfn: number, order: number): void {
  const w = decodeMemdescWord(txn.read(memdescWordOffset(img.layout, pfn), MEMDESC_WORD), 0);
  if (w.type === MEMDESC_ALLOCATION && w.slot < memdescPoolSlots(img.geometry.totalFrames)) {
    txn.write(memdescSlotOffset(img.layout, img.geometry.totalFrames, w.slot), new Uint8Array(DESCRIPTOR_SIZE));
  }
  txn.write(memdescWordOffset(img.layout, pfn), new Uint8Array(2 ** order * MEMDESC_WORD));
}

/** The allocation a page's word points to, as the pool says; undefined for none or a damaged descriptor. */
export function allocationOf(read: (offset: number, length: number) => Uint8Array, img: Where, words: Uint8Array, at: number): Descriptor | undefined {
  const w = decodeMemdescWord(words, at);
  if (w.type !== MEMDESC_ALLOCATION || w.slot >= memdescPoolSlots(img.geometry.totalFrames)) return undefined;
  const raw = read(memdescSlotOffset(img.layout, img.geometry.totalFrames, w.slot), DESCRIPTOR_SIZE);
  if (isBlank(raw, 0) || !checkDescriptorBytes(raw, 0).ok) return undefined;
  const d = decodeDescriptor(raw, 0);
  return d.flags & PG_ALLOCATED ? d : undefined;
}

/** Slots of the pool in use: one per allocated block. */
export function poolSlotsUsed(read: (offset: number, length: number) => Uint8Array, img: Where): number {
  const slots = memdescPoolSlots(img.geometry.totalFrames);
  let used = 0;
  for (let first = 0; first < slots; first += 4096) {
    const n = Math.min(4096, slots - first);
    const bytes = read(memdescSlotOffset(img.layout, img.geometry.totalFrames, first), n * DESCRIPTOR_SIZE);
    for (let i = 0; i < n; i++) if (!isBlank(bytes, i * DESCRIPTOR_SIZE)) used++;
  }
  return used;
}
