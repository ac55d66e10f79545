/**
 * Little-endian field access on byte arrays. 64-bit fields hold pfns and byte
 * offsets, which stay far below 2^53 for any supported device (1 TiB = 2^40
 * bytes), so they are read as plain numbers; larger values are rejected.
 */
import * as CRC32 from 'crc-32';

/** The little-endian subset of DataView the format uses (a DataView is one too). */
export interface LEView {
  getUint8(at: number): number;
  getUint16(at: number, littleEndian?: boolean): number;
  getUint32(at: number, littleEndian?: boolean): number;
  setUint8(at: number, value: number): void;
  setUint16(at: number, value: number, littleEndian?: boolean): void;
  setUint32(at: number, value: number, littleEndian?: boolean): void;
}

function outside(at: number, size: number, length: number): boolean {
  return !(at >= 0 && at + size <= length);
}

/**
 * Little-endian fields read and written on the bytes themselves. A DataView
 * would need the array's ArrayBuffer, and asking a small fresh array for it
 * moves its bytes off the heap: the costliest step of a field edit.
 */
class ByteView implements LEView {
  constructor(private readonly b: Uint8Array) {}

  private check(at: number, size: number): void {
    if (outside(at, size, this.b.length)) throw new RangeError(`offset ${at} is outside the bounds of a ${this.b.length}-byte view`);
  }

  getUint8(at: number): number {
    this.check(at, 1);
    return this.b[at];
  }

  getUint16(at: number): number {
    this.check(at, 2);
    return this.b[at] | (this.b[at + 1] << 8);
  }

  getUint32(at: number): number {
    this.check(at, 4);
    const b = this.b;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  setUint8(at: number, value: number): void {
    this.check(at, 1);
    this.b[at] = value;
  }

  setUint16(at: number, value: number): void {
    this.check(at, 2);
    this.b[at] = value;
    this.b[at + 1] = value >>> 8;
  }

  setUint32(at: number, value: number): void {
    this.check(at, 4);
    const b = this.b;
    b[at] = value;
    b[at + 1] = value >>> 8;
    b[at + 2] = value >>> 16;
    b[at + 3] = value >>> 24;
  }
}

const SLAB_BYTES = 64 * 1024;
const SMALL_MAX = 256;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/**
 * A zeroed byte array for a field or a record. Small ones are cut from a
 * shared slab: a small array of its own would live on the heap and be moved
 * off it the first time a view or subarray of it is taken, which costs more
 * than the work done on it (about 1 µs). Such an array's `buffer` holds
 * others too: a DataView or word view of it takes its `byteOffset`.
 */
export function newBytes(length: number): Uint8Array {
  if (length > SMALL_MAX) return new Uint8Array(length);
  const size = (length + 7) & ~7;
  if (slabUsed + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, length);
  slabUsed += size;
  return out;
}

/** A copy of `bytes` in an array of its own (see newBytes). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = newBytes(bytes.length);
  out.set(bytes);
  return out;
}

export function view(bytes: Uint8Array): LEView {
  return new ByteView(bytes);
}

/** A DataView of exactly these bytes: an array may be a view into a larger buffer (small ones share slabs, see newBytes). */
export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function readU64(dv: LEView, at: number): number {
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  if (hi >= 0x200000) return Number.NaN; // beyond 2^53: never valid in this format
  return hi * 0x1_0000_0000 + lo;
}

/**
 * As readU64, but a value of 2^53 or more comes back inexact instead of NaN:
 * still above any valid pfn or count, so a range check rejects it (NaN would
 * pass every comparison).
 */
export function readU64Loose(dv: LEView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x1_0000_0000;
}

export function writeU64(dv: LEView, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u64 field value ${value} out of range`);
  dv.setUint32(at, value % 0x1_0000_0000, true);
  dv.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Writes a NUL-padded UTF-8 string field; throws if it does not fit. */
export function writeString(bytes: Uint8Array, at: number, length: number, value: string): void {
  if (value.length <= length && isAscii(value)) {
    // Most tags and magics are ASCII: no encoder needed (the same bytes).
    for (let i = 0; i < value.length; i++) bytes[at + i] = value.charCodeAt(i);
    bytes.fill(0, at + value.length, at + length);
    return;
  }
  const encoded = encoder.encode(value);
  if (encoded.length > length) throw new RangeError(`"${value}" is longer than ${length} bytes`);
  bytes.fill(0, at, at + length);
  bytes.set(encoded, at);
}

/** The longest prefix of `value` whose UTF-8 encoding fits in `length` bytes (never a partial character). */
export function utf8Prefix(value: string, length: number): Uint8Array {
  const encoded = encoder.encode(value);
  if (encoded.length <= length) return encoded;
  let end = length;
  while (end > 0 && (encoded[end] & 0xc0) === 0x80) end--; // back to the start of the character cut in two
  return encoded.subarray(0, end);
}

/** `value` cut to what fits in `length` bytes of UTF-8 (as utf8Prefix), as text. */
export function utf8Fit(value: string, length: number): string {
  return decoder.decode(utf8Prefix(value, length));
}

export function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

export function readString(bytes: Uint8Array, at: number, length: number): string {
  let ascii = '';
  for (let i = at; i < at + length; i++) {
    const b = bytes[i];
    if (b === 0) return ascii;
    if (b > 0x7f || b === undefined) return readUtf8(bytes, at, length);
    ascii += String.fromCharCode(b);
  }
  return ascii;
}

function readUtf8(bytes: Uint8Array, at: number, length: number): string {
  const field = bytes.subarray(at, at + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** CRC-32 (IEEE) as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  return bytes.length >= LONG_CRC ? crc32Words(bytes, seed) : CRC32.buf(bytes, seed) >>> 0;
}

/** From this length on (a journal payload, a memmap run) crc32 reads 16 bytes at a time as words. */
const LONG_CRC = 4096;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
let sliceTables: Int32Array | undefined;

/** Tables for 16 bytes a step: entry t × 256 + v is byte v's CRC followed by t zero bytes. */
function crcSliceTables(): Int32Array {
  if (sliceTables) return sliceTables;
  const T = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    T[n] = c;
  }
  for (let t = 1; t < 16; t++) for (let n = 0; n < 256; n++) T[t * 256 + n] = (T[(t - 1) * 256 + n] >>> 8) ^ T[T[(t - 1) * 256 + n] & 255];
  return (sliceTables = T);
}

/** CRC-32 of b[from, to) continued from `seed`, eight bytes a step (a descriptor's 60 bytes, a link record's 44: about twice as fast as a byte a step). */
export function crc32Sliced(b: Uint8Array, from: number, to: number, seed = 0): number {
  const T = crcSliceTables();
  let c = ~seed;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    c ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    c = T[1792 + (c & 255)] ^ T[1536 + ((c >>> 8) & 255)] ^ T[1280 + ((c >>> 16) & 255)] ^ T[1024 + (c >>> 24)]
      ^ T[768 + b[i + 4]] ^ T[512 + b[i + 5]] ^ T[256 + b[i + 6]] ^ T[b[i + 7]];
  }
  for (; i + 4 <= to; i += 4) {
    c ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    c = T[768 + (c & 255)] ^ T[512 + ((c >>> 8) & 255)] ^ T[256 + ((c >>> 16) & 255)] ^ T[c >>> 24];
  }
  for (; i < to; i++) c = T[(c ^ b[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The same CRC as CRC32.buf, 16 bytes a step on aligned little-endian words (about a third faster on long buffers). */
function crc32Words(b: Uint8Array, seed: number): number {
  const T = crcSliceTables();
  let c = ~seed;
  let i = 0;
  const n = b.length;
  for (; i < n && (b.byteOffset + i) % 4 !== 0; i++) c = T[(c ^ b[i]) & 255] ^ (c >>> 8);
  if (LITTLE_ENDIAN) {
    const words = ((n - i) >> 4) << 2;
    const w = new Int32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k += 4) {
      const a = w[k] ^ c;
      const x1 = w[k + 1];
      const x2 = w[k + 2];
      const x3 = w[k + 3];
      c = T[3840 + (a & 255)] ^ T[3584 + ((a >>> 8) & 255)] ^ T[3328 + ((a >>> 16) & 255)] ^ T[3072 + (a >>> 24)]
        ^ T[2816 + (x1 & 255)] ^ T[2560 + ((x1 >>> 8) & 255)] ^ T[2304 + ((x1 >>> 16) & 255)] ^ T[2048 + (x1 >>> 24)]
        ^ T[1792 + (x2 & 255)] ^ T[1536 + ((x2 >>> 8) & 255)] ^ T[1280 + ((x2 >>> 16) & 255)] ^ T[1024 + (x2 >>> 24)]
        ^ T[768 + (x3 & 255)] ^ T[512 + ((x3 >>> 8) & 255)] ^ T[256 + ((x3 >>> 16) & 255)] ^ T[x3 >>> 24];
    }
    i += words * 4;
  }
  for (; i < n; i++) c = T[(c ^ b[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

