/**
 * The free-area table: for each node, zone and order, the pfn of the first
 * free block on that list (0 = empty) and the number of blocks on it. The rest
 * of each list is linked through the free blocks themselves.
 */
import { readU64, view, writeU64 } from '../core/bytes';
import { ZONE_COUNT } from './constants';
import { FREE_AREA_ENTRY_SIZE } from './layout';

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
  writeU64(dv, 0, e.head);
  writeU64(dv, 8, e.count);
  return out;
}

export function decodeFreeAreaEntry(bytes: Uint8Array, at = 0): FreeAreaEntry {
  const dv = view(bytes);
  return { head: readU64(dv, at), count: readU64(dv, at + 8) };
}
