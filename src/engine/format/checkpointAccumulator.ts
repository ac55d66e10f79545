/**
 * The bytes a checkpoint must restore, gathered as records are appended: for
 * every byte some record of the span changes, its value before the span's
 * first change (the first write wins). Building a checkpoint from this costs
 * as much as the bytes it restores, instead of undoing the span's records one
 * by one on a copy of the image.
 */
import { newBytes } from '../core/bytes';
import { sortedKeys } from '../core/sortedKeys';
import type { ByteRange } from './rangeList';

const LINE = 64;
/** Lines of room to begin with (doubled as needed). */
const FIRST_LINES = 16;

/** The bits of bytes [from, to) that fall in the 32-byte half starting at `base`, as a 32-bit word. */
function halfMask(from: number, to: number, base: number): number {
  const a = Math.max(from - base, 0);
  const b = Math.min(to - base, 32);
  if (a >= b) return 0;
  return b - a === 32 ? -1 : (((1 << (b - a)) - 1) << a) | 0;
}

/** The first byte at or after `i` whose bit is set in the 64-bit mask (low, high); LINE when none. */
function nextSet(low: number, high: number, i: number): number {
  if (i < 32) {
    const w = low >>> i;
    if (w !== 0) return i + 31 - Math.clz32(w & -w);
    i = 32;
  }
  if (i >= LINE) return LINE;
  const w = high >>> (i - 32);
  return w !== 0 ? i + 31 - Math.clz32(w & -w) : LINE;
}

/**
 * Lines are kept in one growing buffer, a slot each, with their known bytes
 * as two 32-bit masks (bytes 0–31 in `low`, 32–63 in `high`): a span's
 * thousands of lines make no object each for the collector.
 */
export class CheckpointAccumulator {
  /** Slot of each line gathered, by line index. */
  private readonly slots = new Map<number, number>();
  private data = new Uint8Array(FIRST_LINES * LINE);
  private low = new Int32Array(FIRST_LINES);
  private high = new Int32Array(FIRST_LINES);
  private used = 0;
  /** Bytes of the records gathered so far (the size of what the checkpoint stands for). */
  recordBytes = 0;
  /** Records gathered that keep their operation as its inverse (each undone by running the allocator). */
  inverses = 0;
  lastSeq: number;

  constructor(readonly firstSeq: number) {
    this.lastSeq = firstSeq - 1;
  }

  /** Adds the old bytes of a record (or of the checkpointing record itself), keeping older values where known. */
  add(ranges: ByteRange[]): void {
    for (const r of ranges) {
      const end = r.offset + r.data.length;
      for (let at = r.offset; at < end; ) {
        const index = Math.floor(at / LINE);
        const stop = Math.min(end, (index + 1) * LINE);
        const from = at - index * LINE;
        const to = stop - index * LINE;
        const low = halfMask(from, to, 0);
        const high = halfMask(from, to, 32);
        let slot = this.slots.get(index);
        if (slot === undefined) {
          // Nothing known in this line yet: take the bytes as they are.
          slot = this.newSlot(index);
          this.data.set(r.data.subarray(at - r.offset, stop - r.offset), slot * LINE + from);
          this.low[slot] = low;
          this.high[slot] = high;
        } else if ((low & ~this.low[slot]) | (high & ~this.high[slot])) {
          // Only the bytes not yet known: a line the span changes again keeps its first value.
          const base = slot * LINE;
          for (let i = from; i < to; i++) {
            const known = i < 32 ? (this.low[slot] >>> i) & 1 : (this.high[slot] >>> (i - 32)) & 1;
            if (!known) this.data[base + i] = r.data[index * LINE + i - r.offset];
          }
          this.low[slot] |= low;
          this.high[slot] |= high;
        }
        at = stop;
      }
    }
  }

  private newSlot(index: number): number {
    if (this.used === this.low.length) {
      const n = this.used * 2;
      const data = new Uint8Array(n * LINE);
      data.set(this.data);
      this.data = data;
      const low = new Int32Array(n);
      low.set(this.low);
      this.low = low;
      const high = new Int32Array(n);
      high.set(this.high);
      this.high = high;
    }
    const slot = this.used++;
    this.slots.set(index, slot);
    return slot;
  }

  /** The gathered bytes as sorted ranges, touching ranges joined (as the records' spans would be). */
  ranges(): ByteRange[] {
    return [...this.rangesInOrder()];
  }

  /**
   * As ranges(), each made when asked for: a checkpoint that turns out too
   * large stops early, without joining the bytes of every line gathered.
   * Each is a view of the accumulator's buffer (good until the next add) or,
   * where the lines of a run lie apart in it, a copy.
   */
  *rangesInOrder(): Generator<ByteRange> {
    let run: { offset: number; parts: Uint8Array[]; length: number } | undefined;
    for (const index of sortedKeys(this.slots)) {
      const slot = this.slots.get(index)!;
      const low = this.low[slot];
      const high = this.high[slot];
      const base = slot * LINE;
      // Runs of known bytes found a word at a time: most lines are known whole, or but for a tail.
      for (let i = nextSet(low, high, 0); i < LINE; ) {
        const j = nextSet(~low, ~high, i);
        const offset = index * LINE + i;
        if (run && run.offset + run.length === offset) {
          const last = run.parts[run.parts.length - 1];
          // Lines gathered one after the other lie one after the other in the buffer: one view for both.
          if (last.buffer === this.data.buffer && last.byteOffset + last.length === this.data.byteOffset + base + i) run.parts[run.parts.length - 1] = this.data.subarray(last.byteOffset - this.data.byteOffset, base + j);
          else run.parts.push(this.data.subarray(base + i, base + j));
          run.length += j - i;
        } else {
          if (run) yield joined(run);
          run = { offset, parts: [this.data.subarray(base + i, base + j)], length: j - i };
        }
        i = nextSet(low, high, j);
      }
    }
    if (run) yield joined(run);
  }
}

/** A run's parts as one range (a single part as it is: a view, which a checkpoint only reads). */
function joined(run: { offset: number; parts: Uint8Array[]; length: number }): ByteRange {
  if (run.parts.length === 1) return { offset: run.offset, data: run.parts[0] };
  const data = newBytes(run.length);
  let at = 0;
  for (const p of run.parts) {
    data.set(p, at);
    at += p.length;
  }
  return { offset: run.offset, data };
}
