/**
 * The two-word design's descriptor (seed 004, the 2021 proposal): 16 bytes
 * per 4 KiB frame on the device, in the memmap region (docs/FORMAT.md, *Two-
 * word descriptors*), at memmap.startPfn × 4096 + pfn × 16. Word 0, the
 * allocator: byte 0 the state (0 none: a block's other frames, metadata,
 * never initialised; 1 the head of an allocated block; 2 the head of a free
 * buddy block), byte 1 the block's order, bytes 2..7 zero. Word 1, the
 * allocatee: the owner tag, at most 8 bytes, NUL-padded. No node, zone or
 * reference count: node and zone come from the pfn.
 */
import { DESCRIPTOR_SIZE, PAGE_SIZE } from './constants';
import { DESC, OWNER_BYTES, PG_ALLOCATED, PG_BUDDY } from './descriptor';
import type { Layout } from './layout';

export const TWO_WORD_SIZE = 16;
/** Field offsets (docs/FORMAT.md, *Two-word descriptors*): the allocator word's state and order, the allocatee word. */
export const TWO_WORD = { state: 0, order: 1, allocatee: 8 } as const;
export const TWO_WORD_FREE = 2;
export const TWO_WORD_ALLOCATED = 1;
/** Bytes of an owner tag the allocatee word holds. */
export const ALLOCATEE_BYTES = 8;

export function twoWordOffset(layout: Pick<Layout, 'memmap'>, pfn: number): number {
  return layout.memmap.startPfn * PAGE_SIZE + pfn * TWO_WORD_SIZE;
}

/** The two-word form of a run of 64-byte descriptors (the engine's index): heads keep state, order and owner; the rest are zero. */
export function projectTwoWords(descriptors: Uint8Array): Uint8Array {
  const count = descriptors.length / DESCRIPTOR_SIZE;
  const out = new Uint8Array(count * TWO_WORD_SIZE);
  for (let i = 0; i < count; i++) {
    const at = i * DESCRIPTOR_SIZE;
    const flags = descriptors[at + DESC.flags];
    const state = flags & PG_ALLOCATED ? TWO_WORD_ALLOCATED : flags & PG_BUDDY ? TWO_WORD_FREE : 0;
    if (!state) continue;
    const o = i * TWO_WORD_SIZE;
    out[o + TWO_WORD.state] = state;
    out[o + TWO_WORD.order] = descriptors[at + DESC.order];
    if (state === TWO_WORD_ALLOCATED) out.set(descriptors.subarray(at + DESC.owner, at + DESC.owner + Math.min(ALLOCATEE_BYTES, OWNER_BYTES)), o + TWO_WORD.allocatee);
  }
  return out;
}

/** The state, order and owner a two-word descriptor holds. */
export function decodeTwoWord(bytes: Uint8Array, at: number): { state: number; order: number; owner: string } {
  const owner = at + TWO_WORD.allocatee;
  let end = owner;
  while (end < owner + ALLOCATEE_BYTES && bytes[end] !== 0) end++;
  return { state: bytes[at + TWO_WORD.state], order: bytes[at + TWO_WORD.order], owner: new TextDecoder().decode(bytes.subarray(owner, end)) };
}
