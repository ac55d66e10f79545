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

interface Line {
  data: Uint8Array;
  /** Bit i set where `data` holds byte i's value before the span: bytes 0–31 in `low`, 32–63 in `high`. */
  low: number;
  high: number;
}

/** The bits of bytes [from, to) that fall in the 32-byte half starting at `base`, as a 32-bit word. */
function halfMask(from: number, to: number, base: number): number {
  const a = Math.max(from - base, 0);
  const b = Math.min(to - base, 32);
  if (a >= b) return 0;
  return b - a === 32 ? -1 : (((1 << (b - a)) - 1) << a) | 0;
}

function isKnown(line: Line, i: number): boolean {
  return ((i < 32 ? line.low >>> i : line.high >>> (i - 32)) & 1) === 1;
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

export class CheckpointAccumulator {
  private readonly lines = new Map<number, Line>();
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
        const line = this.lines.get(index);
        if (!line) {
          // Nothing known in this line yet: take the bytes as they are. (Slab arrays: ranges() takes views of them.)
          const data = newBytes(LINE);
          data.set(r.data.subarray(at - r.offset, stop - r.offset), from);
          this.lines.set(index, { data, low, high });
        } else if ((low & ~line.low) | (high & ~line.high)) {
          // Only the bytes not yet known: a line the span changes again keeps its first value.
          for (let i = from; i < to; i++) {
            if (!isKnown(line, i)) line.data[i] = r.data[index * LINE + i - r.offset];
          }
          line.low |= low;
          line.high |= high;
        }
        at = stop;
      }
    }
  }

  /** The gathered bytes as sorted ranges, touching ranges joined (as the records' spans would be). */
  ranges(): ByteRange[] {
    return [...this.rangesInOrder()];
  }

  /**
   * As ranges(), each made when asked for: a checkpoint that turns out too
   * large stops early, without joining the bytes of every line gathered.
   */
  *rangesInOrder(): Generator<ByteRange> {
    let run: { offset: number; parts: Uint8Array[]; length: number } | undefined;
    for (const index of sortedKeys(this.lines)) {
      const line = this.lines.get(index)!;
      // Runs of known bytes found a word at a time: most lines are known whole, or but for a tail.
      for (let i = nextSet(line.low, line.high, 0); i < LINE; ) {
        const j = nextSet(~line.low, ~line.high, i);
        const offset = index * LINE + i;
        const part = line.data.subarray(i, j);
        if (run && run.offset + run.length === offset) {
          run.parts.push(part);
          run.length += j - i;
        } else {
          if (run) yield joined(run);
          run = { offset, parts: [part], length: j - i };
        }
        i = nextSet(line.low, line.high, j);
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
