import type { ByteRange } from '../format/rangeList';
import { ChunkIndex } from './chunkIndex';
import { checkRange, Store } from './store';

const CHUNK = 4096;
/**
 * Over its budget, the overlay spills at most this much at a time: spilling
 * half the budget at once (32 MiB of an editor's unsaved changes) held its
 * thread for tens of milliseconds, and 4 MiB up to 18 ms in an editor.
 */
const SPILL_BATCH = 2 ** 20;

/**
 * Where an overlay keeps the chunks it holds beyond its RAM budget (a
 * temporary file for an editor's unsaved changes): fixed-size slots. A
 * spill keeps no reference to a chunk it is given (the overlay reuses the
 * buffers of the chunks it spilled).
 */
export interface ChunkSpill {
  /** Writes a chunk into `slot`, or into a new slot when none is given; returns the slot. */
  put(chunk: Uint8Array, slot?: number): number;
  /** Writes chunks into new consecutive slots (at once, where it can); returns the first. */
  putMany(chunks: Uint8Array[]): number;
  /** The chunk kept in `slot` (a copy of its CHUNK bytes). */
  get(slot: number): Uint8Array;
  /** Forgets every slot (the overlay was saved or discarded). */
  clear(): void;
  close(): void;
}

export interface OverlayOptions {
  /** Bytes of chunks kept in RAM before the oldest go to the spill. */
  ramBudget: number;
  /** Makes the spill, when the budget is first exceeded. */
  spill: () => ChunkSpill;
}

/**
 * A copy-on-write layer over another store: reads fall through to the base,
 * writes stay in the overlay until `commitTo` or are dropped. Used to look at a
 * past step of the history, and to hold an editor's unsaved changes, without
 * ever writing to the user's file. With `options`, chunks beyond a RAM budget
 * go to a spill (oldest first), so unsaved changes of gigabytes need not be
 * held in memory.
 */
export class OverlayStore implements Store {
  /** Each chunk held: its bytes in RAM, or its slot in the spill. */
  private readonly chunks = new ChunkIndex<Uint8Array | number>();
  private ramChunks = 0;
  /** With a budget, the chunks in RAM, least recently written first: those go to the spill first (a hot chunk, such as the journal's, stays). */
  private readonly ramOrder = new Map<number, true>();
  private spill?: ChunkSpill;
  /** Buffers of chunks sent to the spill, for chunks written next: past its budget the overlay makes no new ones (their volume alone made V8 collect in full). */
  private readonly spent: Uint8Array[] = [];

  constructor(readonly base: Store, private readonly options?: OverlayOptions) {}

  get size(): number {
    return this.base.size;
  }

  /** Bytes held in RAM and in the spill (for tests and figures). */
  get heldBytes(): { ram: number; spilled: number } {
    return { ram: this.ramChunks * CHUNK, spilled: (this.chunks.size - this.ramChunks) * CHUNK };
  }

  private chunk(index: number): Uint8Array | undefined {
    const c = this.chunks.get(index);
    return typeof c === 'number' ? this.spill!.get(c) : c;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    if (this.chunks.size === 0) return this.base.read(offset, length);
    const first = Math.floor(offset / CHUNK);
    if (offset + length <= (first + 1) * CHUNK) {
      const chunk = this.chunk(first);
      return chunk ? chunk.slice(offset - first * CHUNK, offset - first * CHUNK + length) : this.base.read(offset, length);
    }
    const out = new Uint8Array(length);
    this.readInto(offset, length, out, 0);
    return out;
  }

  /** As read, into `dest` at `at`: a caller reading often (an undo recorder) reuses one buffer. */
  readInto(offset: number, length: number, dest: Uint8Array, at: number): void {
    checkRange(this, offset, length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, length - done);
      const chunk = this.chunk(index);
      if (chunk) {
        dest.set(chunk.subarray(within, within + n), at + done);
        done += n;
      } else {
        // Read the longest run of chunks the overlay does not hold in one base read.
        let run = n;
        let next = index + 1;
        while (done + run < length && !this.chunks.has(next)) {
          run = Math.min(run + CHUNK, length - done);
          next++;
        }
        if (this.base.readInto) this.base.readInto(pos, run, dest, at + done);
        else dest.set(this.base.read(pos, run), at + done);
        done += run;
      }
    }
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    // The chunks a long write covers whole and creates share one buffer: one allocation, not one per 4 KiB.
    let whole = 0;
    for (let i = Math.ceil(offset / CHUNK); (i + 1) * CHUNK <= offset + data.length; i++) if (!this.chunks.has(i)) whole++;
    const made = whole - Math.min(whole, this.spent.length);
    const fresh = made > 1 ? new Uint8Array(made * CHUNK) : undefined;
    let used = 0;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, data.length - done);
      const held = this.chunks.get(index);
      if (typeof held === 'number') {
        // A spilled chunk is changed where it lies.
        const chunk = this.spill!.get(held);
        chunk.set(data.subarray(done, done + n), within);
        this.spill!.put(chunk, held);
        done += n;
        continue;
      }
      let chunk = held;
      if (chunk && this.options) {
        this.ramOrder.delete(index);
        this.ramOrder.set(index, true);
      }
      if (!chunk && n === CHUNK) {
        // Fully overwritten: no need to read the base, and a spent chunk's old bytes are all replaced.
        chunk = this.spent.pop() ?? (fresh ? fresh.subarray(used, (used += CHUNK)) : new Uint8Array(CHUNK));
        this.hold(index, chunk);
      } else if (!chunk) {
        chunk = this.base.read(index * CHUNK, Math.min(CHUNK, this.size - index * CHUNK));
        if (chunk.length < CHUNK) {
          const full = new Uint8Array(CHUNK);
          full.set(chunk);
          chunk = full;
        }
        this.hold(index, chunk);
      }
      chunk.set(data.subarray(done, done + n), within);
      done += n;
    }
    this.keepToBudget();
  }

  private hold(index: number, chunk: Uint8Array): void {
    this.chunks.set(index, chunk);
    this.ramChunks++;
    if (this.options) this.ramOrder.set(index, true);
  }

  /** Over its budget, the overlay sends the chunks in RAM written longest ago to the spill, a batch at a time (down to half the budget at most). */
  private keepToBudget(): void {
    const o = this.options;
    if (!o || this.ramChunks * CHUNK <= o.ramBudget) return;
    this.spill ??= o.spill();
    const keep = Math.floor(Math.max(o.ramBudget / 2, o.ramBudget - SPILL_BATCH) / CHUNK);
    const indexes: number[] = [];
    const spilled: Uint8Array[] = [];
    for (const index of this.ramOrder.keys()) {
      if (this.ramChunks - spilled.length <= keep) break;
      indexes.push(index);
      spilled.push(this.chunks.get(index) as Uint8Array);
    }
    const first = this.spill.putMany(spilled);
    for (let k = 0; k < indexes.length; k++) {
      this.chunks.set(indexes[k], first + k);
      this.ramOrder.delete(indexes[k]);
    }
    this.ramChunks -= indexes.length;
    // Nothing else holds a chunk's buffer (reads copy; changedRanges' views are taken and written one at a time, with no write between).
    for (const chunk of spilled) if (this.spent.length < SPILL_BATCH / CHUNK) this.spent.push(chunk);
  }

  /** The changed chunks as (offset, bytes) runs, in offset order: views, good until the next write. */
  changes(): Array<{ offset: number; data: Uint8Array }> {
    return [...this.changedRanges()];
  }

  /** As changes(), one chunk at a time: a spilled chunk is read when its turn comes, so the whole is never in RAM at once. Each view is good until the next write. */
  *changedRanges(): Generator<ByteRange> {
    const indexes = [...this.chunks.keys()]; // ascending; taken first, as chunks written meanwhile are not to be given
    for (const i of indexes) {
      const offset = i * CHUNK;
      yield { offset, data: this.chunk(i)!.subarray(0, Math.min(CHUNK, this.size - offset)) };
    }
  }

  /** How many chunks changes() gives, and the bytes they hold. */
  changedSizes(): number[] {
    return [...this.chunks.keys()].map((i) => Math.min(CHUNK, this.size - i * CHUNK));
  }

  /** Whether any chunk of [offset, offset + length) was written here. */
  holdsAny(offset: number, length: number): boolean {
    if (this.chunks.size === 0 || length === 0) return false;
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((offset + length - 1) / CHUNK);
    if (last - first >= this.chunks.size) {
      for (const i of this.chunks.keys()) if (i >= first && i <= last) return true;
      return false;
    }
    for (let i = first; i <= last; i++) if (this.chunks.has(i)) return true;
    return false;
  }

  get dirty(): boolean {
    return this.chunks.size > 0;
  }

  discard(): void {
    this.chunks.clear();
    this.ramOrder.clear();
    this.ramChunks = 0;
    this.spill?.clear();
  }

  flush(): void {}

  close(): void {
    this.spill?.close();
    this.spill = undefined;
  }
}
