/**
 * The 64-byte core descriptor ("struct page") kept for every frame. Only this
 * layout is a promise across kernel profiles; see docs/FORMAT.md.
 * An all-zero descriptor means "never initialised".
 */
import { crc32, newBytes, readString, readU64, view, writeString, writeU64, type LEView } from '../core/bytes';
import { DESCRIPTOR_SIZE, NO_PFN } from './constants';

/** Flag bits of Descriptor.flags. */
export const PG_CORE = 1 << 0; // core-format descriptor (set by initialisation)
export const PG_RESERVED = 1 << 1; // metadata or memmap frame: never allocatable
export const PG_BUDDY = 1 << 2; // head of a free block; `order` is its order
export const PG_ALLOCATED = 1 << 3; // head of an allocated block; `order` is its order
/** On an allocated head only: a free of listed blocks under way (intent kind 3) will free it. Persistent, unlike a lock. */
export const PG_FREEING = 1 << 4;
export const KNOWN_FLAGS = PG_CORE | PG_RESERVED | PG_BUDDY | PG_ALLOCATED | PG_FREEING;

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [PG_CORE, 'PG_core'], [PG_RESERVED, 'PG_reserved'], [PG_BUDDY, 'PG_buddy'], [PG_ALLOCATED, 'PG_allocated'], [PG_FREEING, 'PG_freeing'],
];

/** The names of the flag bits set, low bit first; a bit the format does not define is named by its number (`bit 7`). */
export function flagNames(flags: number): string[] {
  const out = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name);
  for (let bit = 0; bit < 32; bit++) if ((flags >>> bit) & 1 && !(KNOWN_FLAGS & (1 << bit))) out.push(`bit ${bit}`);
  return out;
}

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
  // From the slab: its checksum is taken over a view, which would move an array of its own off the heap.
  const out = newBytes(DESCRIPTOR_SIZE);
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

/** A descriptor's free-list links as stored: values of 2^53 or more come back as the nearest double, not NaN, so a checker can name them. */
export function storedLinks(dv: LEView, at = 0): { next: number; prev: number } {
  const u64 = (field: number) => dv.getUint32(at + field, true) + dv.getUint32(at + field + 4, true) * 2 ** 32;
  return { next: u64(DESC.next), prev: u64(DESC.prev) };
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
  patchAllocatedHeadBody(bytes, at, pfn, order, node, zone, ownerBytes);
  sealDescriptor(bytes, at);
}

/** patchAllocatedHead without the CRC, for a run sealed at once (sealDescriptors). */
export function patchAllocatedHeadBody(bytes: Uint8Array, at: number, pfn: number, order: number, node: number, zone: number, ownerBytes: Uint8Array): void {
  bytes[at + DESC.flags] = PG_CORE | PG_ALLOCATED;
  bytes[at + DESC.flags + 1] = 0;
  bytes[at + DESC.flags + 2] = 0;
  bytes[at + DESC.flags + 3] = 0;
  bytes[at + DESC.order] = order;
  bytes[at + DESC.node] = node;
  bytes[at + DESC.zone] = zone;
  bytes[at + DESC.coreVersion] = CORE_VERSION;
  putU64(bytes, at + DESC.pfn, pfn);
  bytes[at + DESC.refcount] = 1;
  bytes[at + DESC.refcount + 1] = 0;
  bytes[at + DESC.refcount + 2] = 0;
  bytes[at + DESC.refcount + 3] = 0;
  bytes.set(ownerBytes, at + DESC.owner);
  bytes.fill(0, at + DESC.next, at + DESC.next + 16); // next and prev
}

/**
 * Rewrites the descriptor at `at` in place as a plain frame (no block head),
 * keeping the rest of its fields, and reseals its CRC: as markPlain does.
 */
export function patchPlain(bytes: Uint8Array, at: number): void {
  patchPlainBody(bytes, at);
  sealDescriptor(bytes, at);
}

/** patchPlain without the CRC, for a run sealed at once (sealDescriptors). */
export function patchPlainBody(bytes: Uint8Array, at: number): void {
  bytes[at + DESC.flags] &= ~(PG_BUDDY | PG_ALLOCATED | PG_FREEING);
  bytes[at + DESC.order] = 0;
  bytes[at + DESC.coreVersion] = CORE_VERSION;
  // refcount (16..19), then owner, next and prev (24..55): plain loops, cheaper than fill on a few bytes.
  for (let i = at + DESC.refcount; i < at + DESC.refcount + 4; i++) bytes[i] = 0;
  for (let i = at + DESC.owner; i < at + DESC.volatileFlags; i++) bytes[i] = 0;
}

/** patchPlainBody on `count` descriptors, every `stride`-th from the first, a word at a time where the bytes allow it. */
export function patchPlainBodies(bytes: Uint8Array, count: number, stride = 1): void {
  if (!WORDS_ARE_LITTLE_ENDIAN || bytes.byteOffset % 4 !== 0) {
    for (let i = 0; i < count; i++) patchPlainBody(bytes, i * stride * DESCRIPTOR_SIZE);
    return;
  }
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  for (let i = 0; i < count; i++) {
    const b = i * stride * 16;
    w[b] &= ~(PG_BUDDY | PG_ALLOCATED | PG_FREEING);
    w[b + 1] = (w[b + 1] & 0x00ffff00) | (CORE_VERSION << 24); // order 0, node and zone kept
    w[b + 4] = 0; // refcount
    for (let k = 6; k < 14; k++) w[b + k] = 0; // owner, next, prev
  }
}

/**
 * patchPlainBodies then sealDescriptors(bytes, 0, count, stride), in one pass:
 * once made plain, two descriptors can differ only in the words kept (flags,
 * node and zone, pfn, initGeneration, volatileFlags), so only those feed each
 * CRC step.
 */
export function patchPlainSealed(bytes: Uint8Array, count: number, stride = 1): void {
  if (count <= 0) return;
  if (!WORDS_ARE_LITTLE_ENDIAN || bytes.byteOffset % 4 !== 0) {
    patchPlainBodies(bytes, count, stride);
    sealDescriptors(bytes, 0, count, stride);
    return;
  }
  const T = descriptorCrcTable();
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  const plain = (b: number) => {
    w[b] &= ~(PG_BUDDY | PG_ALLOCATED | PG_FREEING);
    w[b + 1] = (w[b + 1] & 0x00ffff00) | (CORE_VERSION << 24);
    w[b + 4] = 0;
    for (let k = 6; k < 14; k++) w[b + k] = 0;
  };
  plain(0);
  sealDescriptor(bytes, 0);
  const step = stride * 16;
  for (let i = 1, b = 0; i < count; i++, b += step) {
    const n = b + step;
    plain(n);
    let c = w[b + 15];
    for (let k = 0; k < 15; k++) {
      if (k === 4) k = 5; // refcount, 0 in both
      else if (k === 6) k = 14; // owner, next and prev, 0 in both
      const x = w[n + k] ^ w[b + k];
      if (x === 0) continue;
      const t = k * 1024;
      c ^= T[t + (x & 255)] ^ T[t + 256 + ((x >>> 8) & 255)] ^ T[t + 512 + ((x >>> 16) & 255)] ^ T[t + 768 + (x >>> 24)];
    }
    w[n + 15] = c;
  }
}

/** A u64 below 2^53, little-endian, byte by byte (no DataView for one field). */
function putU64(bytes: Uint8Array, at: number, value: number): void {
  let lo = value % 0x1_0000_0000;
  let hi = Math.floor(value / 0x1_0000_0000);
  for (let i = 0; i < 4; i++, lo >>>= 8, hi >>>= 8) {
    bytes[at + i] = lo & 255;
    bytes[at + 4 + i] = hi & 255;
  }
}

/**
 * Fills `out` with descriptors for the frames from `firstPfn` on: `pattern`
 * (whole descriptors, their pfn fields 0) repeated, each descriptor then given
 * its pfn and CRC. The CRC is the pattern descriptor's through the pfn's
 * bytes (CRC-32 is affine, see descriptorCrcTable): a few table steps a frame.
 */
export function stampDescriptors(out: Uint8Array, pattern: Uint8Array, firstPfn: number): void {
  const n = pattern.length / DESCRIPTOR_SIZE;
  const count = out.length / DESCRIPTOR_SIZE;
  out.set(pattern.subarray(0, Math.min(pattern.length, out.length)));
  for (let filled = pattern.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  if (!WORDS_ARE_LITTLE_ENDIAN || out.byteOffset % 4 !== 0) {
    for (let i = 0; i < count; i++) {
      putU64(out, i * DESCRIPTOR_SIZE + DESC.pfn, firstPfn + i);
      sealDescriptor(out, i * DESCRIPTOR_SIZE);
    }
    return;
  }
  const T = descriptorCrcTable();
  const base = new Int32Array(n);
  for (let j = 0; j < n; j++) base[j] = crc32(pattern.subarray(j * DESCRIPTOR_SIZE, j * DESCRIPTOR_SIZE + BODY_BYTES));
  const w = new Int32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
  for (let i = 0; i < count; i++) {
    const pfn = firstPfn + i;
    const lo = pfn | 0;
    const hi = (pfn / 4294967296) | 0;
    const b = i * 16;
    w[b + 2] = lo;
    w[b + 3] = hi;
    let c = base[i % n] ^ T[2048 + (lo & 255)] ^ T[2304 + ((lo >>> 8) & 255)] ^ T[2560 + ((lo >>> 16) & 255)] ^ T[2816 + (lo >>> 24)];
    if (hi !== 0) c ^= T[3072 + (hi & 255)] ^ T[3328 + ((hi >>> 8) & 255)] ^ T[3584 + ((hi >>> 16) & 255)] ^ T[3840 + (hi >>> 24)];
    w[b + 15] = c;
  }
}

/** Computes and stores the CRC of the descriptor at `at`. */
export function sealDescriptor(bytes: Uint8Array, at: number): void {
  const c = crc32(bytes.subarray(at, at + DESC.crc));
  bytes[at + DESC.crc] = c & 255;
  bytes[at + DESC.crc + 1] = (c >>> 8) & 255;
  bytes[at + DESC.crc + 2] = (c >>> 16) & 255;
  bytes[at + DESC.crc + 3] = c >>> 24;
}

/**
 * Stores the CRCs of `count` descriptors of `bytes`, the first at descriptor
 * index `first`, each `stride` descriptors after the one before. Each CRC but
 * the first comes from the previous one through the words in which the two
 * bodies differ (CRC-32 is affine, see descriptorCrcTable): a run that differs
 * only in the pfn costs four table steps a descriptor.
 */
export function sealDescriptors(bytes: Uint8Array, first: number, count: number, stride = 1): void {
  if (count <= 0) return;
  if (!WORDS_ARE_LITTLE_ENDIAN || bytes.byteOffset % 4 !== 0) {
    for (let i = 0; i < count; i++) sealDescriptor(bytes, (first + i * stride) * DESCRIPTOR_SIZE);
    return;
  }
  const T = descriptorCrcTable();
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  let b = first * 16;
  sealDescriptor(bytes, first * DESCRIPTOR_SIZE);
  const step = stride * 16;
  for (let i = 1; i < count; i++) {
    const n = b + step;
    let c = w[b + 15];
    for (let k = 0; k < 15; k++) {
      const x = w[n + k] ^ w[b + k];
      if (x === 0) continue;
      const t = k * 1024;
      c ^= T[t + (x & 255)] ^ T[t + 256 + ((x >>> 8) & 255)] ^ T[t + 512 + ((x >>> 16) & 255)] ^ T[t + 768 + (x >>> 24)];
    }
    w[n + 15] = c;
    b = n;
  }
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

/*
 * Checking descriptors in bulk, on raw 32-bit words: what the checker does for
 * every frame of a section without decoding each descriptor into an object.
 */

/** Byte length of the checksummed part of a descriptor (bytes 0..59). */
const BODY_BYTES = DESC.crc;

/**
 * CRC-32 is affine in its input: for two bodies of the same length,
 * crc(a) ^ crc(b) depends only on a ^ b, and is the XOR of one table entry per
 * byte. Entry [i * 256 + v] is what byte value v at body byte i contributes;
 * the last entry is the CRC of a body of zeros. Built from crc32 itself, so
 * there is still one CRC function.
 */
let crcTable: Int32Array | undefined;
export function descriptorCrcTable(): Int32Array {
  if (crcTable) return crcTable;
  const t = new Int32Array(BODY_BYTES * 256 + 1);
  const body = new Uint8Array(BODY_BYTES);
  const zero = crc32(body);
  for (let i = 0; i < BODY_BYTES; i++) {
    for (let bit = 0; bit < 8; bit++) {
      body[i] = 1 << bit;
      t[i * 256 + (1 << bit)] = crc32(body) ^ zero;
    }
    body[i] = 0;
    for (let v = 3; v < 256; v++) if (v & (v - 1)) t[i * 256 + v] = t[i * 256 + (v & (v - 1))] ^ t[i * 256 + (v & -v)];
  }
  t[BODY_BYTES * 256] = zero;
  return (crcTable = t);
}

/** Descriptors that share what is expected of them: a section's data frames, or its reserved frames. */
export interface DescriptorRun {
  /** Index of the run's first descriptor in the bytes scanned. */
  at: number;
  count: number;
  firstPfn: number;
  /** Metadata or memmap frames: PG_reserved set, never a block head. */
  reserved: boolean;
  node: number;
  zone: number;
  /** initGeneration must lie in [minGeneration, maxGeneration]. */
  minGeneration: number;
  maxGeneration: number;
  /** Free heads may carry list links (links kept in descriptors). */
  linksInDescriptor: boolean;
}

/** What a scan found; arrays grow as needed and are shared by consecutive runs. */
export interface DescriptorScan {
  /** pfn − base of each descriptor the scan could not clear, ascending: the caller checks it in full. */
  odd: Int32Array;
  oddCount: number;
  /** Five numbers per descriptor with PG_buddy or PG_allocated set, ascending: pfn − base, flags, order, node, zone. */
  heads: Int32Array;
  headCount: number;
  base: number;
}

/** Where each number of a head lies in DescriptorScan.heads (HEAD_STRIDE numbers per head). */
export const HEAD = { pfn: 0, flags: 1, order: 2, node: 3, zone: 4 } as const;
export const HEAD_STRIDE = 5;

export function newDescriptorScan(base: number): DescriptorScan {
  return { odd: new Int32Array(64), oddCount: 0, heads: new Int32Array(64 * HEAD_STRIDE), headCount: 0, base };
}

/**
 * The scan's inner loop over little-endian words (16 per descriptor). It
 * clears a descriptor when it is exactly what initialisation and the allocator
 * write: checksum, version, known flags with PG_core, PG_reserved where due and
 * nowhere else, its own pfn, its section's node and zone, an initGeneration in
 * range, order 0 unless it heads a block, no links unless a free head may have
 * them. That is every per-descriptor test of the checker, so a cleared one has
 * nothing to report. The first cleared frame that heads no block becomes the
 * run's template: a descriptor equal to it in everything but the pfn (most of
 * a section) costs 15 comparisons and one table step of the checksum.
 *
 * Self-contained (no outside names), so worker threads can run its source.
 * Word indexes and flag bits are literals, checked against DESC and PG_* below.
 */
export function scanDescriptorRun(w: Int32Array, run: DescriptorRun, T: Int32Array, out: DescriptorScan): void {
  const first = run.at * 16;
  const end = first + run.count * 16;
  const zeroCrc = T[60 * 256];
  const reserved = run.reserved;
  const links = run.linksInDescriptor;
  const info = (1 << 24) | (run.zone << 16) | (run.node << 8); // coreVersion 1, zone, node; the order byte is masked off
  const minGen = run.minGeneration;
  const maxGen = run.maxGeneration;
  const base = out.base;
  const odd = (pfn: number) => {
    if (out.oddCount === out.odd.length) {
      const grown = new Int32Array(out.odd.length * 2);
      grown.set(out.odd);
      out.odd = grown;
    }
    out.odd[out.oddCount++] = pfn - base;
  };
  const head = (pfn: number, f: number, i1: number) => {
    let k = out.headCount * 5;
    if (k + 5 > out.heads.length) {
      const grown = new Int32Array(out.heads.length * 2);
      grown.set(out.heads);
      out.heads = grown;
    }
    const h = out.heads;
    h[k++] = pfn - base;
    h[k++] = f;
    h[k++] = i1 & 255;
    h[k++] = (i1 >>> 8) & 255;
    h[k] = (i1 >>> 16) & 255;
    out.headCount++;
  };
  // The template: its word index (-1 until one is found), its words but the pfn's low one and the CRC, its pfn word and its CRC.
  let tb = -1;
  let t0 = 0, t1 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0, t7 = 0, t8 = 0, t9 = 0, t10 = 0, t11 = 0, t12 = 0, t13 = 0, t14 = 0;
  let t2 = 0;
  let tc = 0;
  let pfn = run.firstPfn;
  for (let b = first; b < end; b += 16, pfn++) {
    const f = w[b];
    if (f === t0 && tb >= 0 && w[b + 1] === t1 && w[b + 3] === t3 && w[b + 4] === t4 && w[b + 5] === t5 && w[b + 6] === t6 && w[b + 7] === t7
      && w[b + 8] === t8 && w[b + 9] === t9 && w[b + 10] === t10 && w[b + 11] === t11 && w[b + 12] === t12 && w[b + 13] === t13 && w[b + 14] === t14) {
      const w2 = w[b + 2];
      const x = w2 ^ t2;
      if (w2 !== (pfn | 0) || w[b + 15] !== (tc ^ T[2048 + (x & 255)] ^ T[2304 + ((x >>> 8) & 255)] ^ T[2560 + ((x >>> 16) & 255)] ^ T[2816 + (x >>> 24)])) odd(pfn);
      continue;
    }
    // The CRC of this body: from the template's, through the words that differ, or from a body of zeros.
    let c = tb >= 0 ? tc : zeroCrc;
    for (let k = 0; k < 15; k++) {
      const x = tb >= 0 ? w[b + k] ^ w[tb + k] : w[b + k];
      if (x === 0) continue;
      const t = k * 1024;
      c ^= T[t + (x & 255)] ^ T[t + 256 + ((x >>> 8) & 255)] ^ T[t + 512 + ((x >>> 16) & 255)] ^ T[t + 768 + (x >>> 24)];
    }
    const i1 = w[b + 1];
    const g = w[b + 5] >>> 0;
    const ok = (reserved ? f === 3 : (f & ~12) === 1)
      && (i1 & ~255) === info
      && ((f & 12) !== 0 || (i1 & 255) === 0)
      && w[b + 2] === (pfn | 0) && w[b + 3] === ((pfn / 4294967296) | 0)
      && g >= minGen && g <= maxGen
      && ((w[b + 10] | w[b + 11] | w[b + 12] | w[b + 13]) === 0 || (links && (f & 4) !== 0))
      && w[b + 15] === c;
    if (!ok) odd(pfn);
    if (f & 12) head(pfn, f, i1);
    else if (ok && tb < 0) {
      tb = b;
      t0 = f; t1 = i1; t2 = w[b + 2]; t3 = w[b + 3]; t4 = w[b + 4]; t5 = w[b + 5]; t6 = w[b + 6]; t7 = w[b + 7];
      t8 = w[b + 8]; t9 = w[b + 9]; t10 = w[b + 10]; t11 = w[b + 11]; t12 = w[b + 12]; t13 = w[b + 13]; t14 = w[b + 14];
      tc = c;
    }
  }
}

// The literals scanDescriptorRun relies on.
if (
  HEAD.pfn !== 0 || HEAD.flags !== 1 || HEAD.order !== 2 || HEAD.node !== 3 || HEAD.zone !== 4 || HEAD_STRIDE !== 5
  || DESCRIPTOR_SIZE !== 64 || DESC.flags !== 0 || DESC.order !== 4 || DESC.node !== 5 || DESC.zone !== 6 || DESC.coreVersion !== 7 || DESC.pfn !== 8
  || DESC.initGeneration !== 20 || DESC.next !== 40 || DESC.prev !== 48 || DESC.crc !== 60 || CORE_VERSION !== 1
  || PG_CORE !== 1 || PG_RESERVED !== 2 || PG_BUDDY !== 4 || PG_ALLOCATED !== 8 || PG_FREEING !== 16
) {
  throw new Error('scanDescriptorRun does not match the descriptor layout');
}

/** True where typed arrays are little-endian, as the format is: the word scan needs it. */
export const WORDS_ARE_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The descriptors in `bytes` as words (copied only when not 4-byte aligned). */
export function descriptorWords(bytes: Uint8Array): Int32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
}

/** Scans one run of `bytes` (the descriptors of consecutive frames); see scanDescriptorRun. */
export function scanDescriptors(bytes: Uint8Array, run: DescriptorRun, out: DescriptorScan, words?: Int32Array): void {
  if (WORDS_ARE_LITTLE_ENDIAN) scanDescriptorRun(words ?? descriptorWords(bytes), run, descriptorCrcTable(), out);
  else collectHeads(bytes, run, out, true); // every descriptor goes to the full check
}

/** Records the block heads of a run (and, with `allOdd`, every descriptor as one to check in full). */
export function collectHeads(bytes: Uint8Array, run: DescriptorRun, out: DescriptorScan, allOdd = false): void {
  const dv = view(bytes);
  for (let i = 0; i < run.count; i++) {
    const at = (run.at + i) * DESCRIPTOR_SIZE;
    const pfn = run.firstPfn + i;
    if (allOdd) pushOdd(out, pfn);
    const flags = dv.getUint32(at + DESC.flags, true);
    if (flags & (PG_BUDDY | PG_ALLOCATED)) pushHead(out, pfn, flags, dv.getUint8(at + DESC.order), dv.getUint8(at + DESC.node), dv.getUint8(at + DESC.zone));
  }
}

function pushOdd(out: DescriptorScan, pfn: number): void {
  if (out.oddCount === out.odd.length) {
    const grown = new Int32Array(out.odd.length * 2);
    grown.set(out.odd);
    out.odd = grown;
  }
  out.odd[out.oddCount++] = pfn - out.base;
}

function pushHead(out: DescriptorScan, pfn: number, flags: number, order: number, node: number, zone: number): void {
  const k = out.headCount * HEAD_STRIDE;
  if (k + HEAD_STRIDE > out.heads.length) {
    const grown = new Int32Array(out.heads.length * 2);
    grown.set(out.heads);
    out.heads = grown;
  }
  out.heads.set([pfn - out.base, flags, order, node, zone], k);
  out.headCount++;
}
