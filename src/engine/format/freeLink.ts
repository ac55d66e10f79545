/**
 * The free-list link record that a free block carries in its own first page
 * (when links live in pages): the block is free, so nothing else uses those
 * bytes. It names itself (pfn, order, node, zone) so a corrupted or stray
 * record is detected, and is erased when the block is allocated or merged.
 */
import { crc32, newBytes, readString, readU64, view, writeString, writeU64 } from '../core/bytes';

export const FREE_LINK_MAGIC = 'PMEMFREE';
export const FREE_LINK_SIZE = 48;
export const LINK = { magic: 0, pfn: 8, next: 16, prev: 24, order: 32, node: 33, zone: 34, linkedGeneration: 36, crc: 44 } as const;

export interface FreeLink {
  pfn: number;
  next: number;
  prev: number;
  order: number;
  node: number;
  zone: number;
  /** Boot generation in which the block was last linked (informational). */
  linkedGeneration: number;
}

export function encodeFreeLink(l: FreeLink): Uint8Array {
  // From the slab: its checksum is taken over a view, which would move an array of its own off the heap.
  return encodeFreeLinkInto(newBytes(FREE_LINK_SIZE), l);
}

/** As encodeFreeLink, into `out` (FREE_LINK_SIZE bytes, overwritten whole): for a caller that compares many. */
export function encodeFreeLinkInto(out: Uint8Array, l: FreeLink): Uint8Array {
  out.fill(0, 0, FREE_LINK_SIZE);
  const dv = view(out);
  writeString(out, LINK.magic, 8, FREE_LINK_MAGIC);
  writeU64(dv, LINK.pfn, l.pfn);
  writeU64(dv, LINK.next, l.next);
  writeU64(dv, LINK.prev, l.prev);
  dv.setUint8(LINK.order, l.order);
  dv.setUint8(LINK.node, l.node);
  dv.setUint8(LINK.zone, l.zone);
  dv.setUint32(LINK.linkedGeneration, l.linkedGeneration, true);
  dv.setUint32(LINK.crc, crc32(out.subarray(0, LINK.crc)), true);
  return out;
}

export type LinkDecode = { ok: true; link: FreeLink } | { ok: false; reason: string; field: string };

export function decodeFreeLink(bytes: Uint8Array): LinkDecode {
  const dv = view(bytes);
  if (readString(bytes, LINK.magic, 8) !== FREE_LINK_MAGIC) return { ok: false, reason: 'no free-link magic', field: 'freeLink.magic' };
  if (dv.getUint32(LINK.crc, true) !== crc32(bytes.subarray(0, LINK.crc))) return { ok: false, reason: 'free-link checksum mismatch', field: 'freeLink.crc' };
  return {
    ok: true,
    link: {
      pfn: readU64(dv, LINK.pfn), next: readU64(dv, LINK.next), prev: readU64(dv, LINK.prev),
      order: dv.getUint8(LINK.order), node: dv.getUint8(LINK.node), zone: dv.getUint8(LINK.zone),
      linkedGeneration: dv.getUint32(LINK.linkedGeneration, true),
    },
  };
}
