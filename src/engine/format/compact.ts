/**
 * Variable-length integers for compact history records: unsigned LEB128
 * (7 bits a byte, low first, high bit = more) for values below 2^53, and
 * zigzag for signed ones (0, -1, 1, -2, ... as 0, 1, 2, 3, ...).
 */
import { crc32Sliced } from '../core/bytes';

/** A problem found while decoding, at a byte offset of the decoded buffer. */
export class CodecError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

const MAX_VARINT_BYTES = 8; // 56 bits: enough for any value below 2^53

export function zigzag(n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1;
}

export function unzigzag(z: number): number {
  if (z < 0x8000_0000) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Bytes a varint of `v` takes. */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export class ByteWriter {
  // Starts small: typed arrays up to 64 bytes live on the JS heap, larger ones cost an allocation of their own.
  private buf = new Uint8Array(64);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint value ${v} out of range`);
    this.room(MAX_VARINT_BYTES);
    while (v >= 128) {
      this.buf[this.length++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  zigzag(v: number): void {
    this.varint(zigzag(v));
  }

  /** Drops everything after `length` bytes (undoes a tentative write). */
  truncate(length: number): void {
    this.length = length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written so far, not copied: valid until the next write. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * CRC-32 (IEEE, as core/bytes.ts) of bytes [from, to), continuing from `seed`
 * (a finished CRC). For the small records here, a loop over the bytes is
 * cheaper than cutting a view to hand to the library.
 */
export function crc32Range(b: Uint8Array, from: number, to: number, seed = 0): number {
  if (to - from >= 16) return crc32Sliced(b, from, to, seed);
  let c = ~seed;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 continued over `n` zero bytes. */
export function crc32Zeros(n: number, seed: number): number {
  let c = ~seed;
  for (let i = 0; i < n; i++) c = CRC_TABLE[c & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 continued over a number's 8 little-endian bytes (a u64 below 2^53). */
export function crc32U64(v: number, seed = 0): number {
  let c = ~seed;
  let lo = v % 0x1_0000_0000;
  let hi = Math.floor(v / 0x1_0000_0000);
  for (let i = 0; i < 4; i++, lo = Math.floor(lo / 256)) c = CRC_TABLE[(c ^ lo) & 0xff] ^ (c >>> 8);
  for (let i = 0; i < 4; i++, hi = Math.floor(hi / 256)) c = CRC_TABLE[(c ^ hi) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Position after the number the last varintAt read. */
export let varintEnd = 0;

/**
 * Reads a varint at `p` (before `end`) with the position kept in a local by
 * the caller: `const v = varintAt(b, p, end); p = varintEnd;`. For loops that
 * decode hundreds of thousands of entries.
 */
export function varintAt(b: Uint8Array, p: number, end: number): number {
  if (p < end) {
    const x = b[p];
    if (x < 128) {
      varintEnd = p + 1;
      return x;
    }
  }
  return varintSlow(b, p, end);
}

function varintSlow(b: Uint8Array, p: number, end: number): number {
  const start = p;
  let v = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (p >= end) throw new CodecError('ends inside a number', start);
    const x = b[p++];
    v += (x & 127) * scale;
    if (x < 128) {
      if (!Number.isSafeInteger(v)) throw new CodecError('number is 2^53 or more', start);
      varintEnd = p;
      return v;
    }
    scale *= 128;
  }
  throw new CodecError('number is too long', start);
}

export class ByteReader {
  constructor(public bytes: Uint8Array, public pos: number, public end: number) {}

  /** Points the reader at other bytes (one reader serves many records). */
  reset(bytes: Uint8Array, pos: number, end: number): this {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new CodecError('ends too early', this.pos);
    return this.bytes[this.pos++];
  }

  skip(n: number): void {
    if (n > this.end - this.pos) throw new CodecError(`ends too early (${n} bytes wanted, ${this.end - this.pos} left)`, this.pos);
    this.pos += n;
  }

  take(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new CodecError(`ends too early (${n} bytes wanted, ${this.end - this.pos} left)`, this.pos);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  varint(): number {
    if (this.pos < this.end && this.bytes[this.pos] < 128) return this.bytes[this.pos++];
    const start = this.pos;
    let v = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new CodecError('ends inside a number', start);
      const b = this.bytes[this.pos++];
      v += (b & 127) * scale;
      if (b < 128) {
        if (!Number.isSafeInteger(v)) throw new CodecError('number is 2^53 or more', start);
        return v;
      }
      scale *= 128;
    }
    throw new CodecError('number is too long', start);
  }

  zigzag(): number {
    return unzigzag(this.varint());
  }
}
