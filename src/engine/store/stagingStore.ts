import { copyBytes, newBytes } from '../core/bytes';
import { ByteRange } from '../format/rangeList';
import { OverlayStore } from './overlayStore';
import { checkRange, Store } from './store';

/** Fine-grained staging unit: one descriptor, so a field edit copies 64 bytes, not a page. */
const LINE = 64;
const PAGE = 4096;
/** Writes this long or longer are staged a page at a time (a run of descriptors). */
const LARGE = 1024;

interface Line {
  data: Uint8Array;
  /** Changed bytes within the line: [lo, hi). */
  lo: number;
  hi: number;
}

/**
 * Where a transaction stages its writes before commit, readable as the store
 * it will become. Small field edits (the allocator's) are kept per 64-byte
 * line with the span that changed; large ones (runs of descriptors) in a
 * page-grained overlay with the span changed in each page; so the redo is
 * exactly the changed bytes without sorting thousands of ranges. Bulk writes
 * (a section's initialisation, committed apart) share the overlay but are not
 * part of the redo.
 */
export class StagingStore implements Store {
  private readonly lines = new Map<number, Line>();
  /** Per overlay page written by large journaled writes: the changed span [lo, hi). */
  private readonly pageSpans = new Map<number, { lo: number; hi: number }>();
  readonly bulk: OverlayStore;

  constructor(readonly base: Store) {
    this.bulk = new OverlayStore(base);
  }

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.lines.size === 0) return this.bulk.read(offset, length);
    checkRange(this, offset, length);
    const index = Math.floor(offset / LINE);
    const within = offset - index * LINE;
    if (within + length <= LINE) {
      const line = this.lines.get(index);
      return line ? copyBytes(line.data.subarray(within, within + length)) : this.bulk.read(offset, length);
    }
    const out = this.bulk.read(offset, length);
    const last = Math.floor((offset + length - 1) / LINE);
    if (last - index > this.lines.size) {
      for (const [i, line] of this.lines) if (i >= index && i <= last) this.patch(out, offset, length, i, line);
    } else {
      for (let i = index; i <= last; i++) {
        const line = this.lines.get(i);
        if (line) this.patch(out, offset, length, i, line);
      }
    }
    return out;
  }

  private patch(out: Uint8Array, offset: number, length: number, i: number, line: Line): void {
    const a = Math.max(offset, i * LINE);
    const b = Math.min(offset + length, (i + 1) * LINE);
    out.set(line.data.subarray(a - i * LINE, b - i * LINE), a - offset);
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    if (data.length >= LARGE) {
      this.writeUnder(offset, data);
      for (let p = Math.floor(offset / PAGE); p * PAGE < offset + data.length; p++) {
        const lo = Math.max(offset, p * PAGE) - p * PAGE;
        const hi = Math.min(offset + data.length, (p + 1) * PAGE) - p * PAGE;
        const span = this.pageSpans.get(p);
        if (!span) this.pageSpans.set(p, { lo, hi });
        else {
          if (lo < span.lo) span.lo = lo;
          if (hi > span.hi) span.hi = hi;
        }
      }
      return;
    }
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / LINE);
      const within = pos - index * LINE;
      const n = Math.min(LINE - within, data.length - done);
      let line = this.lines.get(index);
      if (!line) {
        const start = index * LINE;
        const data = newBytes(LINE);
        data.set(this.bulk.read(start, Math.min(LINE, this.size - start)));
        line = { data, lo: within, hi: within + n };
        this.lines.set(index, line);
      } else {
        if (within < line.lo) line.lo = within;
        if (within + n > line.hi) line.hi = within + n;
      }
      line.data.set(done === 0 && n === data.length ? data : data.subarray(done, done + n), within);
      done += n;
    }
  }

  /** A bulk write: kept apart from the redo (it is committed differently). */
  writeBulk(offset: number, data: Uint8Array): void {
    this.writeUnder(offset, data);
  }

  /** Writes into the page overlay, updating lines staged earlier over the same bytes. */
  private writeUnder(offset: number, data: Uint8Array): void {
    if (this.lines.size > 0) {
      const first = Math.floor(offset / LINE);
      const last = Math.floor((offset + data.length - 1) / LINE);
      const update = (i: number, line: Line) => {
        const a = Math.max(offset, i * LINE);
        const b = Math.min(offset + data.length, (i + 1) * LINE);
        line.data.set(data.subarray(a - offset, b - offset), a - i * LINE);
      };
      if (last - first > this.lines.size) {
        for (const [i, line] of this.lines) if (i >= first && i <= last) update(i, line);
      } else {
        for (let i = first; i <= last; i++) {
          const line = this.lines.get(i);
          if (line) update(i, line);
        }
      }
    }
    this.bulk.write(offset, data);
  }

  /** The changed bytes of the journaled writes, in offset order, adjacent spans merged. */
  changes(): ByteRange[] {
    // [start, end, line index or -1 for a page span]; every byte of a merged span lies in one of its members.
    const spans: Array<[number, number, number]> = [];
    for (const [k, line] of this.lines) spans.push([k * LINE + line.lo, k * LINE + line.hi, k]);
    for (const [p, span] of this.pageSpans) spans.push([p * PAGE + span.lo, p * PAGE + span.hi, -1]);
    spans.sort((a, b) => a[0] - b[0]);
    const out: ByteRange[] = [];
    for (let i = 0; i < spans.length; ) {
      const start = spans[i][0];
      let end = spans[i][1];
      let j = i + 1;
      while (j < spans.length && spans[j][0] <= end) end = Math.max(end, spans[j++][1]);
      out.push({ offset: start, data: this.assemble(spans, i, j, start, end) });
      i = j;
    }
    return out;
  }

  /** The bytes of a merged span from its members: page spans from the overlay, then lines over them (lines hold the newest bytes). */
  private assemble(spans: Array<[number, number, number]>, from: number, to: number, start: number, end: number): Uint8Array {
    if (to - from === 1 && spans[from][2] >= 0) {
      const line = this.lines.get(spans[from][2])!;
      return line.data.slice(line.lo, line.hi);
    }
    const data = new Uint8Array(end - start);
    for (let i = from; i < to; i++) {
      const [a, b, k] = spans[i];
      if (k < 0) data.set(this.bulk.read(a, b - a), a - start);
    }
    for (let i = from; i < to; i++) {
      const [a, b, k] = spans[i];
      if (k >= 0) data.set(this.lines.get(k)!.data.subarray(a - k * LINE, b - k * LINE), a - start);
    }
    return data;
  }

  get empty(): boolean {
    return this.lines.size === 0 && !this.bulk.dirty;
  }

  flush(): void {}
  close(): void {}
}
