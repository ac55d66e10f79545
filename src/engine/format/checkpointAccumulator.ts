/**
 * The bytes a checkpoint must restore, gathered as records are appended: for
 * every byte some record of the span changes, its value before the span's
 * first change (the first write wins). Building a checkpoint from this costs
 * as much as the bytes it restores, instead of undoing the span's records one
 * by one on a copy of the image.
 */
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
        let line = this.lines.get(index);
        if (!line) {
          line = { data: new Uint8Array(LINE), known: new Uint8Array(LINE) };
          this.lines.set(index, line);
        }
        for (let b = at; b < stop; b++) {
          const i = b - index * LINE;
          if (!line.known[i]) {
            line.known[i] = 1;
            line.data[i] = r.data[b - r.offset];
          }
        }
        at = stop;
      }
    }
  }

  /** The gathered bytes as sorted ranges, touching ranges joined (as the records' spans would be). */
  ranges(): ByteRange[] {
    const out: Array<{ offset: number; bytes: number[] }> = [];
    for (const index of [...this.lines.keys()].sort((a, b) => a - b)) {
      const line = this.lines.get(index)!;
      for (let i = 0; i < LINE; i++) {
        if (!line.known[i]) continue;
        const offset = index * LINE + i;
        const last = out[out.length - 1];
        if (last && last.offset + last.bytes.length === offset) last.bytes.push(line.data[i]);
        else out.push({ offset, bytes: [line.data[i]] });
      }
    }
    return out.map((r) => ({ offset: r.offset, data: Uint8Array.from(r.bytes) }));
  }
}
