/**
 * The free-area table: for each node, zone and order, the pfn of the first
 * free block on that list (0 = empty) and the number of blocks on it. The rest
 * of each list is linked through the free blocks themselves.
 */
import { readU64, readU64Loose, view, writeU64, type LEView } from '../core/bytes';
import { PAGE_SIZE, ZONE_COUNT } from './constants';
import { FREE_AREA_ENTRY_SIZE, Layout } from './layout';

/** Byte offsets of a free-area entry's fields, u64 each (see docs/FORMAT.md). */
export const FREE_AREA = { head: 0, count: 8 } as const;

export interface FreeAreaEntry {
  head: number;
  count: number;
}

export function freeAreaIndex(maxOrder: number, node: number, zone: number, order: number): number {
  return (node * ZONE_COUNT + zone) * (maxOrder + 1) + order;
}

export function encodeFreeAreaEntry(e: FreeAreaEntry): Uint8Array {
  const out = new Uint8Array(FREE_AREA_ENTRY_SIZE);
  const dv = view(out);
  writeU64(dv, FREE_AREA.head, e.head);
  writeU64(dv, FREE_AREA.count, e.count);
  return out;
}

export function decodeFreeAreaEntry(bytes: Uint8Array, at = 0): FreeAreaEntry {
  const dv = view(bytes);
  return { head: readU64(dv, at + FREE_AREA.head), count: readU64(dv, at + FREE_AREA.count) };
}

/** Byte offset of free-area entry `index` in the image. */
export function freeAreaEntryOffset(layout: Pick<Layout, 'freeArea'>, index: number): number {
  return layout.freeArea.startPfn * PAGE_SIZE + index * FREE_AREA_ENTRY_SIZE;
}

/**
 * Entry `index` of a free-area table read whole into `dv` (entry 0 at byte 0).
 * Values of 2^53 or more stay numbers too large to be valid, never NaN, so a
 * range check on them fails as it should.
 */
export function freeAreaEntryAt(dv: LEView, index: number): FreeAreaEntry {
  const at = index * FREE_AREA_ENTRY_SIZE;
  return { head: readU64Loose(dv, at + FREE_AREA.head), count: readU64Loose(dv, at + FREE_AREA.count) };
}

/** Entry `index` of a table read whole: the checker's name for freeAreaEntryAt. */
export const readFreeAreaEntry = freeAreaEntryAt;
