import { copyBytes, newBytes } from '../core/bytes';
import { ByteRange } from '../format/rangeList';
import { OverlayStore } from './overlayStore';
import { checkRange, Store } from './store';

/** Fine-grained staging unit: one descriptor, so a field edit copies 64 bytes, not a page. */
const LINE = 64;

interface Line {
  data: Uint8Array;
  /** Changed bytes within the line: [lo, hi). */
  lo: number;
  hi: number;
}

/**
 * Where a transaction stages its writes before commit, readable as the store
 * it will become. Small field edits (the allocator's) are kept per 64-byte
 * line with the span that changed, so the redo is exactly the changed bytes
 * without sorting thousands of ranges; bulk writes (a section's descriptors)
 * sit in a page-grained overlay below them.
 */
export class StagingStore implements Store {
  private readonly lines = new Map<number, Line>();
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
    for (let i = index; i <= last; i++) {
      const line = this.lines.get(i);
      if (!line) continue;
      const a = Math.max(offset, i * LINE);
      const b = Math.min(offset + length, (i + 1) * LINE);
      out.set(line.data.subarray(a - i * LINE, b - i * LINE), a - offset);
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
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

  /** A bulk write: kept apart from the field edits (it is committed differently). */
  writeBulk(offset: number, data: Uint8Array): void {
    if (this.lines.size > 0) {
      // Field edits staged earlier over the same bytes are superseded.
      const first = Math.floor(offset / LINE);
      const last = Math.floor((offset + data.length - 1) / LINE);
      for (let i = first; i <= last; i++) {
        const line = this.lines.get(i);
        if (!line) continue;
        const a = Math.max(offset, i * LINE);
        const b = Math.min(offset + data.length, (i + 1) * LINE);
        line.data.set(data.subarray(a - offset, b - offset), a - i * LINE);
      }
    }
    this.bulk.write(offset, data);
  }

  /** The changed bytes of the field edits, in offset order, adjacent spans merged. */
  changes(): ByteRange[] {
    const keys = [...this.lines.keys()].sort((a, b) => a - b);
    const out: ByteRange[] = [];
    let runStart = -1;
    let runEnd = -1;
    let parts: Uint8Array[] = [];
    const close = () => {
      if (runStart < 0) return;
      const data = parts.length === 1 ? copyBytes(parts[0]) : newBytes(runEnd - runStart);
      if (parts.length > 1) {
        let at = 0;
        for (const p of parts) {
          data.set(p, at);
          at += p.length;
        }
      }
      out.push({ offset: runStart, data });
      parts = [];
    };
    for (const k of keys) {
      const line = this.lines.get(k)!;
      const start = k * LINE + line.lo;
      const end = k * LINE + line.hi;
      if (start !== runEnd) {
        close();
        runStart = start;
      }
      parts.push(line.data.subarray(line.lo, line.hi));
      runEnd = end;
    }
    close();
    return out;
  }

  get empty(): boolean {
    return this.lines.size === 0 && !this.bulk.dirty;
  }

  flush(): void {}
  close(): void {}
}
