/**
 * Encoding shared by the journal payload and history undo records: a run of
 * (byte offset, length, bytes) entries, each padded to 8 bytes.
 */
import { readU64, view, writeU64 } from '../core/bytes';

export interface ByteRange {
  offset: number;
  data: Uint8Array;
}

const ENTRY_HEADER = 16; // u64 offset, u32 length, u32 reserved

const pad8 = (n: number) => (n + 7) & ~7;

/** Bytes one entry of `length` data bytes takes in a payload. */
export function rangeEntrySize(length: number): number {
  return ENTRY_HEADER + pad8(length);
}

export function encodedSize(ranges: ByteRange[]): number {
  return ranges.reduce((sum, r) => sum + rangeEntrySize(r.data.length), 0);
}

export function encodeRanges(ranges: ByteRange[], out: Uint8Array, at: number): number {
  const dv = view(out);
  let p = at;
  for (const r of ranges) {
    writeU64(dv, p, r.offset);
    dv.setUint32(p + 8, r.data.length, true);
    dv.setUint32(p + 12, 0, true);
    out.set(r.data, p + ENTRY_HEADER);
    out.fill(0, p + ENTRY_HEADER + r.data.length, p + ENTRY_HEADER + pad8(r.data.length)); // `out` may be reused
    p += ENTRY_HEADER + pad8(r.data.length);
  }
  return p - at;
}

/** Decodes entries; returns undefined if they overrun `length` (a torn or corrupt payload). */
export function decodeRanges(bytes: Uint8Array, at: number, length: number, limit: number): ByteRange[] | undefined {
  const dv = view(bytes);
  const out: ByteRange[] = [];
  let p = at;
  const end = at + length;
  while (p < end) {
    if (p + ENTRY_HEADER > end) return undefined;
    const offset = readU64(dv, p);
    const len = dv.getUint32(p + 8, true);
    if (!Number.isSafeInteger(offset) || p + ENTRY_HEADER + len > end || offset + len > limit) return undefined;
    out.push({ offset, data: bytes.slice(p + ENTRY_HEADER, p + ENTRY_HEADER + len) });
    p += ENTRY_HEADER + pad8(len);
  }
  return out;
}

/** Sorts and merges overlapping or touching ranges; later ranges win where they overlap. */
export function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 0) return [];
  const spans = ranges.map((r, i) => ({ start: r.offset, end: r.offset + r.data.length, i }));
  spans.sort((a, b) => a.start - b.start || a.i - b.i);
  const merged: Array<{ start: number; end: number }> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ start: s.start, end: s.end });
  }
  const out = merged.map((m) => ({ offset: m.start, data: new Uint8Array(m.end - m.start) }));
  // Apply in write order so the last write to a byte wins; each range lies in exactly one merged span.
  for (const r of ranges) {
    let lo = 0;
    let hi = merged.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (merged[mid].start <= r.offset) lo = mid;
      else hi = mid - 1;
    }
    out[lo].data.set(r.data, r.offset - merged[lo].start);
  }
  return out;
}

/**
 * As coalesce, for writes whose split does not matter (plain writes in place):
 * only ranges that overlap are merged, and a range that overlaps none is
 * returned as it is, not copied. Sorted; later ranges win where they overlap.
 */
export function mergeOverlapping(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length < 2) return ranges.slice();
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a].offset - ranges[b].offset || a - b);
  const out: ByteRange[] = [];
  for (let i = 0; i < order.length; ) {
    let end = ranges[order[i]].offset + ranges[order[i]].data.length;
    let j = i + 1;
    while (j < order.length && ranges[order[j]].offset < end) end = Math.max(end, ranges[order[j]].offset + ranges[order[j++]].data.length);
    if (j === i + 1) out.push(ranges[order[i]]);
    else out.push(...coalesce(order.slice(i, j).sort((a, b) => a - b).map((k) => ranges[k])));
    i = j;
  }
  return out;
}
