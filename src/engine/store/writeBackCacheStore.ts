import { MemoryStore } from './memoryStore';
import { checkRange, Store } from './store';

/**
 * A crash model of a device behind a write-back cache, as pmem and disks are.
 * Writes pass through to a live copy (reads see them at once, as a CPU sees its
 * own cache) and are recorded in *epochs*: a flush ends one. At a power
 * failure every epoch before the last is durable; of the last (unflushed)
 * epoch, any subset of the writes may have reached the media, in any order,
 * and each may be torn. crashImage() builds the media for one such choice.
 *
 * Tearing. A write is cut into the aligned units of a granularity (8-byte
 * words, 64-byte cache lines, 512-byte sectors) that it touches; an aligned
 * 8-byte word never tears (pmem's atomic store). A torn write lands a prefix
 * or a suffix of its units (TornShape); "only the first unit" and "only the
 * last unit" are the prefix and suffix of 1. These are the shapes of a write
 * cut short at a power failure (the head or the tail of a sequential flush).
 *
 * Overlapping writes of one epoch: a landed write replaces what is under it
 * on the media, and landed writes apply in program order. So a later write
 * wins where it landed; where it did not land, an earlier landed write (or
 * the older media) shows through. A cache line holds only the newest value,
 * so the real outcome is a subset of this; the model is the conservative
 * superset.
 */

export interface CachedWrite {
  offset: number;
  data: Uint8Array;
}

export type Granularity = 8 | 64 | 512;
export const GRANULARITIES: readonly Granularity[] = [8, 64, 512];

/** Which units of a torn write landed: the first `units` or the last `units`. */
export interface TornShape {
  granularity: Granularity;
  side: 'prefix' | 'suffix';
  units: number;
}

/** How one write of the crash epoch fared. Writes not mentioned did not land. */
export interface Landing {
  index: number;
  torn?: TornShape;
}

/** The aligned units of `granularity` that a write of `length` bytes at `offset` touches. */
export function unitCount(offset: number, length: number, granularity: Granularity): number {
  if (length === 0) return 0;
  return Math.floor((offset + length - 1) / granularity) - Math.floor(offset / granularity) + 1;
}

/**
 * The torn shapes worth trying for one write: per granularity at which it
 * spans at least two units, the prefix and suffix of 1, half and all-but-one
 * units. A write inside one aligned 8-byte word has none: it is atomic.
 */
export function tornShapes(offset: number, length: number): TornShape[] {
  const out: TornShape[] = [];
  const seen = new Set<string>();
  for (const granularity of GRANULARITIES) {
    const n = unitCount(offset, length, granularity);
    if (n < 2) continue;
    for (const units of new Set([1, Math.floor(n / 2), n - 1])) {
      for (const side of ['prefix', 'suffix'] as const) {
        const [a, b] = tornSpan(offset, length, { granularity, side, units });
        const key = `${a}:${b}`;
        if (seen.has(key)) continue; // the same bytes as a shape already listed
        seen.add(key);
        out.push({ granularity, side, units });
      }
    }
  }
  return out;
}

/** The byte span [from, to) of a write (relative to its start) that a torn shape lands. */
export function tornSpan(offset: number, length: number, t: TornShape): [number, number] {
  const first = Math.floor(offset / t.granularity);
  const last = Math.floor((offset + length - 1) / t.granularity);
  if (t.side === 'prefix') {
    const end = Math.min(offset + length, (first + t.units) * t.granularity);
    return [0, end - offset];
  }
  const start = Math.max(offset, (last - t.units + 1) * t.granularity);
  return [start - offset, length];
}

export class WriteBackCacheStore implements Store {
  /** The media before the first recorded write. */
  private readonly initial: MemoryStore;
  private readonly live: MemoryStore;
  /** epochs[e]: the writes between flush e-1 and flush e; the last is still open. */
  readonly epochs: CachedWrite[][] = [[]];

  constructor(media: MemoryStore) {
    this.initial = media.clone();
    this.live = media.clone();
  }

  get size(): number {
    return this.live.size;
  }

  read(offset: number, length: number): Uint8Array {
    return this.live.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    this.epochs[this.epochs.length - 1].push({ offset, data: data.slice() });
    this.live.write(offset, data);
  }

  flush(): void {
    if (this.epochs[this.epochs.length - 1].length > 0) this.epochs.push([]);
  }

  close(): void {}

  /** The epochs that hold writes (the last may be empty when the run ended on a flush). */
  get epochCount(): number {
    return this.epochs[this.epochs.length - 1].length ? this.epochs.length : this.epochs.length - 1;
  }

  /** The media as everything written so far left it, once durable. */
  completed(): MemoryStore {
    return this.live.clone();
  }

  /**
   * The media after a power failure during epoch `epoch`: every earlier epoch
   * durable, and of epoch `epoch` exactly the landings given (in program order).
   */
  crashImage(epoch: number, landings: Landing[]): MemoryStore {
    const media = this.durableBefore(epoch).clone();
    const writes = this.epochs[epoch];
    for (const l of [...landings].sort((a, b) => a.index - b.index)) {
      const w = writes[l.index];
      if (!l.torn) {
        media.write(w.offset, w.data);
        continue;
      }
      const [from, to] = tornSpan(w.offset, w.data.length, l.torn);
      media.write(w.offset + from, w.data.subarray(from, to));
    }
    return media;
  }

  private durable?: { epoch: number; media: MemoryStore };

  /** The media with epochs 0..epoch-1 landed; kept for the last epoch asked, as callers go epoch by epoch. */
  private durableBefore(epoch: number): MemoryStore {
    if (this.durable?.epoch !== epoch) {
      const media = this.initial.clone();
      for (let e = 0; e < epoch; e++) for (const w of this.epochs[e]) media.write(w.offset, w.data);
      this.durable = { epoch, media };
    }
    return this.durable.media;
  }
}
