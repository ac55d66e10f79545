/**
 * The free-area table: for each node, zone and order, the pfn of the first
 * free block on that list (0 = empty) and the number of blocks on it. The rest
 * of each list is linked through the free blocks themselves.
 */
import { readU64, view, writeU64 } from '../core/bytes';
import { ZONE_COUNT } from './constants';
import { FREE_AREA_ENTRY_SIZE } from './layout';

/** Byte offsets of an entry's fields (u64 each). */
export const FREE_AREA = { head: 0, count: 8 } as const;

export interface FreeAreaEntry {
  head: number;
  count: number;
}

export function freeAreaIndex(maxOrder: number, node: number, zone: number, order: number): number {
  return (node * ZONE_COUNT + zone) * (maxOrder + 1) + order;
}

/** Byte offset of entry `index` from the start of the table. */
export function freeAreaEntryOffset(index: number): number {
  return index * FREE_AREA_ENTRY_SIZE;
}

export function encodeFreeAreaEntry(e: FreeAreaEntry): Uint8Array {
  const out = new Uint8Array(FREE_AREA_ENTRY_SIZE);
  const dv = view(out);
  writeU64(dv, 0, e.head);
  writeU64(dv, 8, e.count);
  return out;
}

export function decodeFreeAreaEntry(bytes: Uint8Array, at = 0): FreeAreaEntry {
  const dv = view(bytes);
  return { head: readU64(dv, at), count: readU64(dv, at + 8) };
}

const u64Raw = (dv: DataView, at: number) => dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;

/**
 * Entry `index` of a table read whole, as stored: values of 2^53 or more come
 * back as the nearest double (not NaN as in decodeFreeAreaEntry), so a checker
 * can still say where such a value points.
 */
export function readFreeAreaEntry(table: DataView, index: number): FreeAreaEntry {
  const at = freeAreaEntryOffset(index);
  return { head: u64Raw(table, at + FREE_AREA.head), count: u64Raw(table, at + FREE_AREA.count) };
}
