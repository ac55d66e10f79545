import { copyBytes, newBytes } from '../core/bytes';
import { sortedKeys } from '../core/sortedKeys';
import { ByteRange } from '../format/rangeList';
import { OverlayStore } from './overlayStore';
import { checkRange, Store } from './store';

/** Fine-grained staging unit: one descriptor, so a field edit copies 64 bytes, not a page. */
const LINE = 64;
const PAGE = 4096;
/** Writes this long or longer are staged a page at a time (a run of descriptors). */
const LARGE = 1024;

interface Run extends ByteRange {
  bulk: boolean;
}

interface Line {
  data: Uint8Array;
  /** Changed bytes within the line: [lo, hi). */
  lo: number;
  hi: number;
  /** The epoch of its last write (see StagingStore.epoch). */
  stamp: number;
}

/** lineChanges' last answer, per merged span: its first and last line and its range. */
interface LineMemo {
  order: Float64Array;
  firsts: number[];
  lasts: number[];
  ranges: ByteRange[];
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
  /**
   * Large writes whose buffers were handed over, kept without a copy:
   * line-aligned, disjoint, in offset order. A journaled run (writeOwned) is
   * redo whole and no line lies in it; a bulk run (writeBulkOwned) is not redo,
   * and lines over it hold newer bytes. Later large writes over a run update it.
   */
  private readonly runs: Run[] = [];
  /** Per overlay page written by large journaled writes: the changed span [lo, hi). */
  private readonly pageSpans = new Map<number, { lo: number; hi: number }>();
  readonly bulk: OverlayStore;
  /**
   * A commit asks for the changes twice, before and after its history record
   * is staged: the second time, spans of lines not written since (their
   * stamp older than `epoch`) are taken from the memo, not sorted and copied
   * again. Lines created since are listed in `created`; a line dropped ends the memo.
   */
  private memo: LineMemo | undefined;
  private epoch = 0;
  private created: number[] = [];

  constructor(readonly base: Store) {
    this.bulk = new OverlayStore(base);
  }

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.lines.size === 0 && this.runs.length === 0) return this.bulk.read(offset, length);
    checkRange(this, offset, length);
    const index = Math.floor(offset / LINE);
    const within = offset - index * LINE;
    if (within + length <= LINE) {
      const line = this.lines.get(index);
      if (line) return copyBytes(line.data.subarray(within, within + length));
      const run = this.runAt(offset);
      return run ? copyBytes(run.data.subarray(offset - run.offset, offset - run.offset + length)) : this.bulk.read(offset, length);
    }
    const out = this.bulk.read(offset, length);
    for (let r = this.firstRunEndingAfter(offset); r < this.runs.length && this.runs[r].offset < offset + length; r++) {
      const run = this.runs[r];
      const a = Math.max(offset, run.offset);
      const b = Math.min(offset + length, run.offset + run.data.length);
      out.set(run.data.subarray(a - run.offset, b - run.offset), a - offset);
    }
    if (this.lines.size === 0) return out;
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
      const run = this.runs.length ? this.runAt(pos) : undefined;
      if (run && !run.bulk) {
        // Inside a journaled run, which is redo whole: the bytes change there.
        run.data.set(data.subarray(done, done + n), pos - run.offset);
        done += n;
        continue;
      }
      let line = this.lines.get(index);
      if (!line) {
        const start = index * LINE;
        const data = newBytes(LINE);
        // A write of the whole line (a descriptor) leaves nothing of the bytes under it to read.
        if (n < LINE) data.set(run ? run.data.subarray(start - run.offset, start - run.offset + LINE) : this.bulk.read(start, Math.min(LINE, this.size - start)));
        line = { data, lo: within, hi: within + n, stamp: this.epoch };
        this.lines.set(index, line);
        if (this.memo) this.created.push(index);
      } else {
        if (within < line.lo) line.lo = within;
        if (within + n > line.hi) line.hi = within + n;
        line.stamp = this.epoch;
      }
      line.data.set(done === 0 && n === data.length ? data : data.subarray(done, done + n), within);
      done += n;
    }
  }

  /**
   * A large journaled write whose buffer the stager keeps instead of copying
   * (the caller hands it over and never touches it again). Only line-aligned
   * writes that overlap no other such write are kept so; any other is copied
   * as write() does.
   */
  writeOwned(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    const end = offset + data.length;
    const r = this.firstRunEndingAfter(offset);
    if (offset % LINE !== 0 || data.length % LINE !== 0 || data.length < LARGE || (r < this.runs.length && this.runs[r].offset < end)) {
      this.write(offset, data);
      return;
    }
    // Lines under it are superseded: every byte of a run is redo.
    if (this.lines.size > 0) {
      this.memo = undefined;
      const first = offset / LINE;
      const last = end / LINE - 1;
      if (last - first > this.lines.size) {
        for (const i of [...this.lines.keys()]) if (i >= first && i <= last) this.lines.delete(i);
      } else {
        for (let i = first; i <= last; i++) this.lines.delete(i);
      }
    }
    this.runs.splice(r, 0, { offset, data, bulk: false });
  }

  /**
   * A bulk write (see writeBulk) whose buffer the stager keeps instead of
   * copying: the caller hands it over. Kept so only when line-aligned and
   * over bytes nothing large was staged on; otherwise copied as writeBulk does.
   */
  writeBulkOwned(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    const end = offset + data.length;
    const r = this.firstRunEndingAfter(offset);
    if (offset % LINE !== 0 || data.length % LINE !== 0 || data.length < LARGE || (r < this.runs.length && this.runs[r].offset < end) || this.bulk.holdsAny(offset, data.length)) {
      this.writeBulk(offset, data);
      return;
    }
    this.updateLines(offset, data);
    this.runs.splice(r, 0, { offset, data, bulk: true });
  }

  /** Index of the first run that ends after `offset` (runs.length if none). */
  private firstRunEndingAfter(offset: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runs[mid].offset + this.runs[mid].data.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private runAt(pos: number): Run | undefined {
    const r = this.firstRunEndingAfter(pos);
    return r < this.runs.length && this.runs[r].offset <= pos ? this.runs[r] : undefined;
  }

  /** A bulk write: kept apart from the redo (it is committed differently). */
  writeBulk(offset: number, data: Uint8Array): void {
    this.writeUnder(offset, data);
  }

  /** Writes into the page overlay, updating runs and lines staged earlier over the same bytes. */
  private writeUnder(offset: number, data: Uint8Array): void {
    for (let r = this.firstRunEndingAfter(offset); r < this.runs.length && this.runs[r].offset < offset + data.length; r++) {
      const run = this.runs[r];
      const a = Math.max(offset, run.offset);
      const b = Math.min(offset + data.length, run.offset + run.data.length);
      run.data.set(data.subarray(a - offset, b - offset), a - run.offset);
    }
    this.updateLines(offset, data);
    this.bulk.write(offset, data);
  }

  /** Copies `data` into the lines staged over its bytes (lines hold the newest bytes). */
  private updateLines(offset: number, data: Uint8Array): void {
    if (this.lines.size === 0) return;
    const first = Math.floor(offset / LINE);
    const last = Math.floor((offset + data.length - 1) / LINE);
    const update = (i: number, line: Line) => {
      const a = Math.max(offset, i * LINE);
      const b = Math.min(offset + data.length, (i + 1) * LINE);
      line.data.set(data.subarray(a - offset, b - offset), a - i * LINE);
      line.stamp = this.epoch;
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

  /** The changed bytes of the journaled writes, in offset order, adjacent spans merged (but runs with what only touches them). */
  changes(): ByteRange[] {
    // Bulk runs (a section handed over) are no redo: only a page span over one needs the general path.
    if (this.runs.every((run) => run.bulk)) {
      if (this.pageSpans.size === 0) return this.lineChanges();
      const apart = this.linesApartFromPages();
      if (apart) return apart;
    }
    // [start, end, line index, or -1 for a page span, or -2 - r for run r]; every byte of a merged span lies in one of its members.
    const spans: Array<[number, number, number]> = [];
    for (const [k, line] of this.lines) spans.push([k * LINE + line.lo, k * LINE + line.hi, k]);
    for (const [p, span] of this.pageSpans) spans.push([p * PAGE + span.lo, p * PAGE + span.hi, -1]);
    this.runs.forEach((run, r) => {
      if (!run.bulk) spans.push([run.offset, run.offset + run.data.length, -2 - r]);
    });
    spans.sort((a, b) => a[0] - b[0]);
    const out: ByteRange[] = [];
    for (let i = 0; i < spans.length; ) {
      const start = spans[i][0];
      let end = spans[i][1];
      let j = i + 1;
      // A run is merged only with what overlaps it, not what just touches it: alone, its bytes are passed on without a copy.
      let hasRun = spans[i][2] <= -2;
      while (j < spans.length && (spans[j][0] < end || (spans[j][0] === end && !hasRun && spans[j][2] > -2))) {
        hasRun ||= spans[j][2] <= -2;
        end = Math.max(end, spans[j++][1]);
      }
      out.push({ offset: start, data: this.assemble(spans, i, j, start, end) });
      i = j;
    }
    return out;
  }

  /**
   * changes() when only lines are staged (every small operation), beside
   * bulk runs at most: the line indices sorted as numbers, touching spans
   * merged, with no span objects. (Touching spans cover every byte between
   * them, so no bulk run's bytes show through.)
   */
  private lineChanges(): ByteRange[] {
    const order = this.lineOrder();
    const memo = this.memo;
    const next: LineMemo = { order, firsts: [], lasts: [], ranges: [] };
    const out: ByteRange[] = [];
    let m = 0;
    for (let i = 0; i < order.length; ) {
      const first = this.lines.get(order[i])!;
      let j = i + 1;
      // Lines merge when the changed span of one runs to its end and the next one's starts at its beginning.
      let last = first;
      let written = first.stamp === this.epoch;
      while (j < order.length && order[j] === order[j - 1] + 1 && last.hi === LINE && this.lines.get(order[j])!.lo === 0) {
        last = this.lines.get(order[j++])!;
        written ||= last.stamp === this.epoch;
      }
      while (memo && m < memo.firsts.length && memo.firsts[m] < order[i]) m++;
      // The same first and last line, none written since: the same lines, the same bytes.
      const range = memo && !written && memo.firsts[m] === order[i] && memo.lasts[m] === order[j - 1] ? memo.ranges[m] : this.spanOfLines(order, i, j);
      out.push(range);
      next.firsts.push(order[i]);
      next.lasts.push(order[j - 1]);
      next.ranges.push(range);
      i = j;
    }
    this.memo = next;
    this.created = [];
    this.epoch++;
    return out;
  }

  /** The line indices in order: the memo's, with the lines created since merged in. */
  private lineOrder(): Float64Array {
    if (!this.memo) return sortedKeys(this.lines);
    const old = this.memo.order;
    if (!this.created.length) return old;
    const added = Float64Array.from(this.created).sort();
    const order = new Float64Array(old.length + added.length);
    for (let a = 0, b = 0, k = 0; k < order.length; k++) order[k] = b >= added.length || (a < old.length && old[a] < added[b]) ? old[a++] : added[b++];
    return order;
  }

  /** The changed bytes of lines order[i..j), which touch end to start. */
  private spanOfLines(order: Float64Array, i: number, j: number): ByteRange {
    const first = this.lines.get(order[i])!;
    const start = order[i] * LINE + first.lo;
    if (j - i === 1) return { offset: start, data: copyBytes(first.data.subarray(first.lo, first.hi)) };
    const last = this.lines.get(order[j - 1])!;
    const data = newBytes((order[j - 1] - order[i]) * LINE + last.hi - first.lo);
    for (let k = i; k < j; k++) {
      const line = this.lines.get(order[k])!;
      data.set(line.data.subarray(line.lo, line.hi), order[k] * LINE + line.lo - start);
    }
    return { offset: start, data };
  }

  /**
   * changes() when lines and page spans are staged, no journaled runs, and
   * no line touches a page span (a step's structures, and its history record
   * in the ring): each kind merged on its own, then the two lists
   * interleaved. Undefined when some line touches a page span, or a page
   * span lies over a bulk run (whose bytes are newer than the page's): the
   * general path takes those.
   */
  private linesApartFromPages(): ByteRange[] | undefined {
    const lines = this.lineChanges();
    const pages = sortedKeys(this.pageSpans);
    const paged: ByteRange[] = [];
    for (let i = 0; i < pages.length; ) {
      const first = this.pageSpans.get(pages[i])!;
      const start = pages[i] * PAGE + first.lo;
      let end = pages[i] * PAGE + first.hi;
      let j = i + 1;
      for (; j < pages.length; j++) {
        const span = this.pageSpans.get(pages[j])!;
        if (pages[j] * PAGE + span.lo > end) break;
        end = Math.max(end, pages[j] * PAGE + span.hi);
      }
      const r = this.firstRunEndingAfter(start);
      if (r < this.runs.length && this.runs[r].offset < end) return undefined;
      paged.push({ offset: start, data: this.bulk.read(start, end - start) });
      i = j;
    }
    const out: ByteRange[] = [];
    let a = 0;
    let b = 0;
    while (a < lines.length || b < paged.length) {
      const next = b >= paged.length || (a < lines.length && lines[a].offset < paged[b].offset) ? lines[a++] : paged[b++];
      const last = out[out.length - 1];
      if (last && last.offset + last.data.length >= next.offset) return undefined;
      out.push(next);
    }
    return out;
  }

  /** The bytes of a merged span from its members: page spans from the overlay, then runs and lines over them (they hold the newest bytes). */
  private assemble(spans: Array<[number, number, number]>, from: number, to: number, start: number, end: number): Uint8Array {
    if (to - from === 1 && spans[from][2] >= 0) {
      const line = this.lines.get(spans[from][2])!;
      return copyBytes(line.data.subarray(line.lo, line.hi));
    }
    if (to - from === 1 && spans[from][2] <= -2) return this.runs[-2 - spans[from][2]].data; // no copy: the transaction only reads it from here on
    const data = newBytes(end - start);
    for (let i = from; i < to; i++) {
      const [a, b, k] = spans[i];
      if (k === -1) data.set(this.bulk.read(a, b - a), a - start);
    }
    // A page span covers its page's changed bytes from the first to the last, and some between may lie in a bulk run, which is newer than the page.
    for (let r = this.firstRunEndingAfter(start); r < this.runs.length && this.runs[r].offset < end; r++) {
      const run = this.runs[r];
      if (!run.bulk) continue;
      const a = Math.max(start, run.offset);
      const b = Math.min(end, run.offset + run.data.length);
      data.set(run.data.subarray(a - run.offset, b - run.offset), a - start);
    }
    for (let i = from; i < to; i++) {
      const [a, , k] = spans[i];
      if (k <= -2) data.set(this.runs[-2 - k].data, a - start);
    }
    for (let i = from; i < to; i++) {
      const [a, b, k] = spans[i];
      if (k >= 0) data.set(this.lines.get(k)!.data.subarray(a - k * LINE, b - k * LINE), a - start);
    }
    return data;
  }

  get empty(): boolean {
    return this.lines.size === 0 && this.runs.length === 0 && !this.bulk.dirty;
  }

  flush(): void {}
  close(): void {}
}
