import { copyBytes, newBytes } from '../core/bytes';
import { checkRange, Store } from './store';

const CHUNK = 4096;
/** Chunks per group (see MemoryStore.groups): 1 MiB of device, 2 KiB of references. */
const GROUP = 256;
/**
 * Chunks are cut from slabs: an ArrayBuffer of its own for each 4 KiB cost
 * more than the small write into it (a replay writes a link record into a
 * new page for most events). Slabs grow from the first to the most chunks,
 * doubling, so a small image holds little more than it uses.
 */
const FIRST_SLAB_CHUNKS = 4;
const MOST_SLAB_CHUNKS = 256;

/**
 * An in-memory store kept as sparse 4 KiB chunks, so a simulated 1 TiB device
 * costs only what has been written. Unwritten bytes read as zero.
 */
export class MemoryStore implements Store {
  /**
   * Chunks by index, in groups of GROUP: one map of every chunk grows to
   * hundreds of thousands of entries (a link record in each free block
   * touched), where each lookup misses the cache.
   */
  private readonly groups = new Map<number, Array<Uint8Array | undefined>>();
  private chunkCount = 0;
  private lastGroupIndex = -1;
  private lastGroup: Array<Uint8Array | undefined> | undefined;
  writes = 0;
  private slab: ArrayBuffer | undefined;
  private slabUsed = 0;
  private slabChunks = FIRST_SLAB_CHUNKS / 2;

  constructor(readonly size: number) {}

  private chunk(index: number): Uint8Array | undefined {
    const g = Math.floor(index / GROUP);
    if (g !== this.lastGroupIndex) {
      this.lastGroup = this.groups.get(g);
      this.lastGroupIndex = g;
    }
    return this.lastGroup?.[index - g * GROUP];
  }

  private setChunk(index: number, chunk: Uint8Array): void {
    const g = Math.floor(index / GROUP);
    let group = this.groups.get(g);
    if (!group) {
      group = new Array<Uint8Array | undefined>(GROUP).fill(undefined);
      this.groups.set(g, group);
    }
    if (!group[index - g * GROUP]) this.chunkCount++;
    group[index - g * GROUP] = chunk;
    this.lastGroupIndex = g;
    this.lastGroup = group;
  }

  /** Every chunk held, with its index. */
  private *held(): Generator<[number, Uint8Array]> {
    for (const [g, group] of this.groups) {
      for (let i = 0; i < GROUP; i++) {
        const c = group[i];
        if (c) yield [g * GROUP + i, c];
      }
    }
  }

  /** A zeroed chunk, cut from the current slab. */
  private newChunk(): Uint8Array {
    if (!this.slab || this.slabUsed === this.slab.byteLength) {
      this.slabChunks = Math.min(MOST_SLAB_CHUNKS, this.slabChunks * 2);
      this.slab = new ArrayBuffer(this.slabChunks * CHUNK);
      this.slabUsed = 0;
    }
    const chunk = new Uint8Array(this.slab, this.slabUsed, CHUNK);
    this.slabUsed += CHUNK;
    return chunk;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    const index = Math.floor(offset / CHUNK);
    const within = offset - index * CHUNK;
    if (within + length <= CHUNK) {
      // One chunk (a field, a descriptor, a link record): one copy.
      const chunk = this.chunk(index);
      return chunk ? copyBytes(chunk.subarray(within, within + length)) : newBytes(length);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, length - done);
      const chunk = this.chunk(index);
      if (chunk) out.set(chunk.subarray(within, within + n), done);
      done += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    this.writes++;
    const first = Math.floor(offset / CHUNK);
    if (offset + data.length <= (first + 1) * CHUNK) {
      // One chunk (the common small write): no views.
      let chunk = this.chunk(first);
      if (!chunk) {
        chunk = this.newChunk();
        this.setChunk(first, chunk);
      }
      chunk.set(data, offset - first * CHUNK);
      return;
    }
    // The chunks a long write creates share one buffer: one allocation, not one per 4 KiB.
    const last = Math.floor((offset + data.length - 1) / CHUNK);
    let absent = 0;
    for (let i = first; i <= last; i++) if (!this.chunk(i)) absent++;
    const fresh = absent > 1 ? new Uint8Array(absent * CHUNK) : undefined;
    let used = 0;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, data.length - done);
      let chunk = this.chunk(index);
      if (!chunk) {
        chunk = fresh ? fresh.subarray(used, (used += CHUNK)) : this.newChunk();
        this.setChunk(index, chunk);
      }
      chunk.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  flush(): void {}
  close(): void {}

  /** Bytes actually held, for tests and benchmarks of sparseness. */
  get residentBytes(): number {
    return this.chunkCount * CHUNK;
  }

  /** Writes every chunk held into `to` (as large as this store): a sparse target stays sparse. */
  copyInto(to: Store): void {
    if (to.size !== this.size) throw new RangeError(`target store is ${to.size} bytes, this one ${this.size}`);
    for (const [i, c] of this.held()) to.write(i * CHUNK, c);
  }

  /** A deep copy, so a test can compare before and after states. */
  clone(): MemoryStore {
    const copy = new MemoryStore(this.size);
    for (const [i, c] of this.held()) copy.setChunk(i, c.slice());
    return copy;
  }

  /** Compares content byte for byte (absent chunks equal zero chunks). */
  sameContentAs(other: MemoryStore): boolean {
    if (other.size !== this.size) return false;
    const zero = new Uint8Array(CHUNK);
    const keys = new Set([...this.held(), ...other.held()].map(([i]) => i));
    for (const k of keys) {
      const a = this.chunk(k) ?? zero;
      const b = other.chunk(k) ?? zero;
      for (let i = 0; i < CHUNK; i++) if (a[i] !== b[i]) return false;
    }
    return true;
  }
}
