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
  /** 1 where `data` holds the byte's value before the span. */
  known: Uint8Array;
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
        const line = this.lines.get(index);
        if (!line) {
          // Nothing known in this line yet: take the bytes as they are. (Slab arrays: ranges() takes views of them.)
          const both = newBytes(2 * LINE);
          const fresh = { data: both.subarray(0, LINE), known: both.subarray(LINE) };
          fresh.data.set(r.data.subarray(at - r.offset, stop - r.offset), from);
          fresh.known.fill(1, from, to);
          this.lines.set(index, fresh);
        } else {
          for (let i = from; i < to; i++) {
            if (!line.known[i]) {
              line.known[i] = 1;
              line.data[i] = r.data[index * LINE + i - r.offset];
            }
          }
        }
        at = stop;
      }
    }
  }

  /** The gathered bytes as sorted ranges, touching ranges joined (as the records' spans would be). */
  ranges(): ByteRange[] {
    const runs: Array<{ offset: number; parts: Uint8Array[]; length: number }> = [];
    for (const index of sortedKeys(this.lines)) {
      const line = this.lines.get(index)!;
      for (let i = 0; i < LINE; ) {
        if (!line.known[i]) {
          i++;
          continue;
        }
        let j = i + 1;
        while (j < LINE && line.known[j]) j++;
        const offset = index * LINE + i;
        const last = runs[runs.length - 1];
        const part = line.data.subarray(i, j);
        if (last && last.offset + last.length === offset) {
          last.parts.push(part);
          last.length += j - i;
        } else runs.push({ offset, parts: [part], length: j - i });
        i = j;
      }
    }
    return runs.map((run) => {
      const data = newBytes(run.length);
      let at = 0;
      for (const p of run.parts) {
        data.set(p, at);
        at += p.length;
      }
      return { offset: run.offset, data };
    });
  }
}
