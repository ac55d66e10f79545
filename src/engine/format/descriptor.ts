/**
 * The 64-byte core descriptor ("struct page") kept for every frame. Only this
 * layout is a promise across kernel profiles; see docs/FORMAT.md.
 * An all-zero descriptor means "never initialised".
 */
import { crc32, readString, readU64, view, writeString, writeU64 } from '../core/bytes';
import { DESCRIPTOR_SIZE, NO_PFN } from './constants';

/** Flag bits of Descriptor.flags. */
export const PG_CORE = 1 << 0; // core-format descriptor (set by initialisation)
export const PG_RESERVED = 1 << 1; // metadata or memmap frame: never allocatable
export const PG_BUDDY = 1 << 2; // head of a free block; `order` is its order
export const PG_ALLOCATED = 1 << 3; // head of an allocated block; `order` is its order
export const KNOWN_FLAGS = PG_CORE | PG_RESERVED | PG_BUDDY | PG_ALLOCATED;

/** Volatile bits (Descriptor.volatileFlags): meaningful only during the boot that set them. */
export const PV_LOCKED = 1 << 0;

export const CORE_VERSION = 1;

export const DESC = {
  flags: 0, order: 4, node: 5, zone: 6, coreVersion: 7, pfn: 8, refcount: 16, initGeneration: 20,
  owner: 24, next: 40, prev: 48, volatileFlags: 56, crc: 60,
} as const;
export const OWNER_BYTES = 16;

export interface Descriptor {
  flags: number;
  order: number;
  node: number;
  zone: number;
  pfn: number;
  refcount: number;
  initGeneration: number;
  /** The "allocatee": who holds an allocated block (UTF-8, at most 16 bytes). */
  owner: string;
  /** Free-list links, used only when the image keeps links in descriptors. */
  next: number;
  prev: number;
  volatileFlags: number;
}

export function emptyDescriptor(pfn: number): Descriptor {
  return { flags: 0, order: 0, node: 0, zone: 0, pfn, refcount: 0, initGeneration: 0, owner: '', next: NO_PFN, prev: NO_PFN, volatileFlags: 0 };
}

export function encodeDescriptorInto(d: Descriptor, out: Uint8Array, at = 0): void {
  const bytes = out.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(bytes);
  dv.setUint32(DESC.flags, d.flags, true);
  dv.setUint8(DESC.order, d.order);
  dv.setUint8(DESC.node, d.node);
  dv.setUint8(DESC.zone, d.zone);
  dv.setUint8(DESC.coreVersion, CORE_VERSION);
  writeU64(dv, DESC.pfn, d.pfn);
  dv.setUint32(DESC.refcount, d.refcount, true);
  dv.setUint32(DESC.initGeneration, d.initGeneration, true);
  writeString(bytes, DESC.owner, OWNER_BYTES, d.owner);
  writeU64(dv, DESC.next, d.next);
  writeU64(dv, DESC.prev, d.prev);
  dv.setUint32(DESC.volatileFlags, d.volatileFlags, true);
  dv.setUint32(DESC.crc, crc32(bytes.subarray(0, DESC.crc)), true);
}

export function encodeDescriptor(d: Descriptor): Uint8Array {
  const out = new Uint8Array(DESCRIPTOR_SIZE);
  encodeDescriptorInto(d, out);
  return out;
}

export function isBlank(bytes: Uint8Array, at = 0): boolean {
  for (let i = at; i < at + DESCRIPTOR_SIZE; i++) if (bytes[i] !== 0) return false;
  return true;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export type DescriptorCheck = { ok: true } | { ok: false; reason: string; field: string };

/** Checks a stored descriptor's integrity (checksum, version, flags); not its meaning. */
export function checkDescriptorBytes(bytes: Uint8Array, at = 0): DescriptorCheck {
  const d = bytes.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(d);
  if (dv.getUint32(DESC.crc, true) !== crc32(d.subarray(0, DESC.crc))) return { ok: false, reason: 'checksum mismatch', field: 'descriptor.crc' };
  if (dv.getUint8(DESC.coreVersion) !== CORE_VERSION) return { ok: false, reason: `core version ${dv.getUint8(DESC.coreVersion)} unknown`, field: 'descriptor.coreVersion' };
  const flags = dv.getUint32(DESC.flags, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) return { ok: false, reason: `unknown flag bits 0x${(flags & ~KNOWN_FLAGS).toString(16)}`, field: 'descriptor.flags' };
  if (!(flags & PG_CORE)) return { ok: false, reason: 'PG_core is not set', field: 'descriptor.flags' };
  for (const f of ['pfn', 'next', 'prev'] as const) {
    if (Number.isNaN(readU64(dv, DESC[f]))) return { ok: false, reason: 'value is 2^53 or more', field: `descriptor.${f}` };
  }
  const owner = d.subarray(DESC.owner, DESC.owner + OWNER_BYTES);
  const end = owner.indexOf(0);
  try {
    strictUtf8.decode(end < 0 ? owner : owner.subarray(0, end));
  } catch {
    return { ok: false, reason: 'owner is not UTF-8', field: 'descriptor.owner' };
  }
  return { ok: true };
}

export function decodeDescriptor(bytes: Uint8Array, at = 0): Descriptor {
  const d = bytes.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(d);
  return {
    flags: dv.getUint32(DESC.flags, true),
    order: dv.getUint8(DESC.order),
    node: dv.getUint8(DESC.node),
    zone: dv.getUint8(DESC.zone),
    pfn: readU64(dv, DESC.pfn),
    refcount: dv.getUint32(DESC.refcount, true),
    initGeneration: dv.getUint32(DESC.initGeneration, true),
    owner: readString(d, DESC.owner, OWNER_BYTES),
    next: readU64(dv, DESC.next),
    prev: readU64(dv, DESC.prev),
    volatileFlags: dv.getUint32(DESC.volatileFlags, true),
  };
}


/** An owner tag as its 16 NUL-padded bytes (throws if longer). */
export function encodeOwner(owner: string): Uint8Array {
  const out = new Uint8Array(OWNER_BYTES);
  writeString(out, 0, OWNER_BYTES, owner);
  return out;
}

/**
 * Rewrites the descriptor at `at` in place as the head of an allocated block,
 * keeping its initialisation generation and volatile flags, and reseals its CRC:
 * the same bytes encodeDescriptorInto gives for those fields.
 */
export function patchAllocatedHead(bytes: Uint8Array, at: number, pfn: number, order: number, node: number, zone: number, ownerBytes: Uint8Array): void {
  const d = bytes.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(d);
  dv.setUint32(DESC.flags, PG_CORE | PG_ALLOCATED, true);
  d[DESC.order] = order;
  d[DESC.node] = node;
  d[DESC.zone] = zone;
  d[DESC.coreVersion] = CORE_VERSION;
  writeU64(dv, DESC.pfn, pfn);
  dv.setUint32(DESC.refcount, 1, true);
  d.set(ownerBytes, DESC.owner);
  d.fill(0, DESC.next, DESC.next + 16); // next and prev
  dv.setUint32(DESC.crc, crc32(d.subarray(0, DESC.crc)), true);
}

/**
 * Rewrites the descriptor at `at` in place as a plain frame (no block head),
 * keeping the rest of its fields, and reseals its CRC: as markPlain does.
 */
export function patchPlain(bytes: Uint8Array, at: number): void {
  const d = bytes.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(d);
  dv.setUint32(DESC.flags, dv.getUint32(DESC.flags, true) & ~(PG_BUDDY | PG_ALLOCATED), true);
  d[DESC.order] = 0;
  d[DESC.coreVersion] = CORE_VERSION;
  dv.setUint32(DESC.refcount, 0, true);
  d.fill(0, DESC.owner, DESC.owner + OWNER_BYTES);
  d.fill(0, DESC.next, DESC.next + 16);
  dv.setUint32(DESC.crc, crc32(d.subarray(0, DESC.crc)), true);
}

/**
 * Sets the given fields of the descriptor at `at` in place, keeping the
 * others as stored, and reseals its CRC: what decoding, changing and
 * re-encoding it gives, without the decode.
 */
export function patchDescriptor(bytes: Uint8Array, at: number, change: Partial<Descriptor>): void {
  const d = bytes.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(d);
  if (change.flags !== undefined) dv.setUint32(DESC.flags, change.flags, true);
  if (change.order !== undefined) d[DESC.order] = change.order;
  if (change.node !== undefined) d[DESC.node] = change.node;
  if (change.zone !== undefined) d[DESC.zone] = change.zone;
  d[DESC.coreVersion] = CORE_VERSION;
  if (change.pfn !== undefined) writeU64(dv, DESC.pfn, change.pfn);
  if (change.refcount !== undefined) dv.setUint32(DESC.refcount, change.refcount, true);
  if (change.initGeneration !== undefined) dv.setUint32(DESC.initGeneration, change.initGeneration, true);
  if (change.owner !== undefined) writeString(d, DESC.owner, OWNER_BYTES, change.owner);
  if (change.next !== undefined) writeU64(dv, DESC.next, change.next);
  if (change.prev !== undefined) writeU64(dv, DESC.prev, change.prev);
  if (change.volatileFlags !== undefined) dv.setUint32(DESC.volatileFlags, change.volatileFlags, true);
  dv.setUint32(DESC.crc, crc32(d.subarray(0, DESC.crc)), true);
}
