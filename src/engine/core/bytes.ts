/**
 * Little-endian field access on byte arrays. 64-bit fields hold pfns and byte
 * offsets, which stay far below 2^53 for any supported device (1 TiB = 2^40
 * bytes), so they are read as plain numbers; larger values are rejected.
 */
import * as CRC32 from 'crc-32';

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function readU64(dv: DataView, at: number): number {
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
export function readU64Loose(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x1_0000_0000;
}

export function writeU64(dv: DataView, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u64 field value ${value} out of range`);
  dv.setUint32(at, value % 0x1_0000_0000, true);
  dv.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Writes a NUL-padded UTF-8 string field; throws if it does not fit. */
export function writeString(bytes: Uint8Array, at: number, length: number, value: string): void {
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

export function readString(bytes: Uint8Array, at: number, length: number): string {
  const field = bytes.subarray(at, at + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** CRC-32 (IEEE) as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  return CRC32.buf(bytes, seed) >>> 0;
}

