import { ByteRange } from '../format/rangeList';
import { checkRange, Store } from './store';

const LINE = 64;
/** Lines found by scanning and sorted by insertion up to this many; past it, by a map and a sort. */
const MANY_LINES = 32;

/**
 * The staging of a small transaction (one block allocated or freed): a few
 * 64-byte lines, each with the span [lo, hi) its writes covered, kept in
 * plain arrays and reused from one operation to the next. It stages exactly
 * as StagingStore does for writes below a page (the same lines, spans and
 * merged changes), without maps or per-write copies.
 */
export class LineLog {
  private index: number[] = [];
  private data: Uint8Array[] = [];
  private lo: number[] = [];
  private hi: number[] = [];
  private count = 0;
  /** Line buffers kept for the next operation. */
  private readonly pool: Uint8Array[] = [];

  constructor(public base: Store) {}

  get size(): number {
    return this.base.size;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Forgets every staged line (after a commit, or when the operation is handed to the general path). */
  reset(base: Store): void {
    for (let i = 0; i < this.count; i++) this.pool.push(this.data[i]);
    this.count = 0;
    this.byLine = undefined;
    this.base = base;
  }

  private find(line: number): number {
    if (this.byLine) return this.byLine.get(line) ?? -1;
    for (let i = this.count - 1; i >= 0; i--) if (this.index[i] === line) return i;
    return -1;
  }

  /** Position of each line by its number, once there are more than a scan should cover (a write-back). */
  private byLine: Map<number, number> | undefined;

  private added(i: number): void {
    if (this.byLine) this.byLine.set(this.index[i], i);
    else if (this.count > MANY_LINES) {
      this.byLine = new Map();
      for (let k = 0; k < this.count; k++) this.byLine.set(this.index[k], k);
    }
  }

  read(offset: number, length: number): Uint8Array {
    const first = Math.floor(offset / LINE);
    const within = offset - first * LINE;
    if (within + length <= LINE) {
      const i = this.find(first);
      return i >= 0 ? this.data[i].slice(within, within + length) : this.base.read(offset, length);
    }
    const out = this.base.read(offset, length);
    for (let i = 0; i < this.count; i++) {
      const start = this.index[i] * LINE;
      const a = Math.max(offset, start);
      const b = Math.min(offset + length, start + LINE);
      if (a < b) out.set(this.data[i].subarray(a - start, b - start), a - offset);
    }
    return out;
  }

  write(offset: number, bytes: Uint8Array): void {
    // Said here, as the store would say it: a whole line is staged without reading the store.
    checkRange(this.base, offset, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const pos = offset + done;
      const line = Math.floor(pos / LINE);
      const within = pos - line * LINE;
      const n = Math.min(LINE - within, bytes.length - done);
      let i = this.find(line);
      if (i < 0) {
        i = this.count++;
        const start = line * LINE;
        const buf = this.pool.pop() ?? new Uint8Array(LINE);
        // A write of the whole line (a descriptor) leaves none of the old bytes to read.
        if (n < LINE) buf.set(this.base.read(start, Math.min(LINE, this.base.size - start)));
        this.index[i] = line;
        this.data[i] = buf;
        this.lo[i] = within;
        this.hi[i] = within + n;
        this.added(i);
      } else {
        if (within < this.lo[i]) this.lo[i] = within;
        if (within + n > this.hi[i]) this.hi[i] = within + n;
      }
      this.data[i].set(n === bytes.length ? bytes : bytes.subarray(done, done + n), within);
      done += n;
    }
  }

  /** Positions of the staged lines in line order. */
  private inLineOrder(): number[] {
    const order: number[] = [];
    if (this.count > MANY_LINES) {
      // A write-back of many operations (image/deferredHome.ts): thousands of lines.
      for (let i = 0; i < this.count; i++) order.push(i);
      return order.sort((x, y) => this.index[x] - this.index[y]);
    }
    // Insertion sort: a handful of lines, mostly staged in order already.
    for (let i = 0; i < this.count; i++) {
      let k = order.length;
      while (k > 0 && this.index[order[k - 1]] > this.index[i]) k--;
      order.splice(k, 0, i);
    }
    return order;
  }

  /** The changed bytes in offset order, touching spans merged: what StagingStore.changes gives for the same writes. */
  changes(): ByteRange[] {
    const order = this.inLineOrder();
    const out: ByteRange[] = [];
    for (let k = 0; k < order.length; ) {
      const first = order[k];
      const start = this.index[first] * LINE + this.lo[first];
      let end = this.index[first] * LINE + this.hi[first];
      let j = k + 1;
      while (j < order.length && this.index[order[j]] * LINE + this.lo[order[j]] <= end) {
        end = Math.max(end, this.index[order[j]] * LINE + this.hi[order[j]]);
        j++;
      }
      if (j === k + 1) {
        out.push({ offset: start, data: this.data[first].slice(this.lo[first], this.hi[first]) });
        k = j;
        continue;
      }
      const data = new Uint8Array(end - start);
      for (let m = k; m < j; m++) {
        const i = order[m];
        const a = this.index[i] * LINE + this.lo[i];
        data.set(this.data[i].subarray(this.lo[i], this.hi[i]), a - start);
      }
      out.push({ offset: start, data });
      k = j;
    }
    return out;
  }
}
