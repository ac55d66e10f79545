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
 * A chunk first written only near its start holds just these bytes (the
 * rest read as zero) until a write reaches past them: a free block's link
 * record sits at the start of its page, and a replay touches a page for most
 * events, each 4 KiB zeroed costing more than the 48-byte record written.
 */
const SHORT = 256;
const SHORT_SLAB_CHUNKS = 1024;

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
  /** Bytes of the chunks held (short ones count their own length). */
  private heldBytes = 0;
  private lastGroupIndex = -1;
  private lastGroup: Array<Uint8Array | undefined> | undefined;
  writes = 0;
  private slab: ArrayBuffer | undefined;
  private slabUsed = 0;
  private slabChunks = FIRST_SLAB_CHUNKS / 2;
  private shortSlab: ArrayBuffer | undefined;
  private shortSlabUsed = 0;

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
    this.heldBytes += chunk.length - (group[index - g * GROUP]?.length ?? 0);
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

  /** A zeroed short chunk (its first SHORT bytes). */
  private newShortChunk(): Uint8Array {
    if (!this.shortSlab || this.shortSlabUsed === this.shortSlab.byteLength) {
      this.shortSlab = new ArrayBuffer(SHORT_SLAB_CHUNKS * SHORT);
      this.shortSlabUsed = 0;
    }
    const chunk = new Uint8Array(this.shortSlab, this.shortSlabUsed, SHORT);
    this.shortSlabUsed += SHORT;
    return chunk;
  }

  /** The chunk at `index` able to hold bytes up to `end` (from its start): made, or a short one grown, as needed. */
  private chunkFor(index: number, end: number): Uint8Array {
    const chunk = this.chunk(index);
    if (chunk && chunk.length >= end) return chunk;
    const made = !chunk && end <= SHORT ? this.newShortChunk() : this.newChunk();
    if (chunk) made.set(chunk);
    this.setChunk(index, made);
    return made;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    const index = Math.floor(offset / CHUNK);
    const within = offset - index * CHUNK;
    if (within + length <= CHUNK) {
      // One chunk (a field, a descriptor, a link record): one copy.
      const chunk = this.chunk(index);
      if (chunk && within + length <= chunk.length) return copyBytes(chunk.subarray(within, within + length));
      const out = newBytes(length);
      if (chunk && within < chunk.length) out.set(chunk.subarray(within)); // a short chunk: the rest is zero
      return out;
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, length - done);
      const chunk = this.chunk(index);
      if (chunk) out.set(chunk.subarray(within, within + n), done); // a short chunk gives what it holds; out is zero past it
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
      const within = offset - first * CHUNK;
      this.chunkFor(first, within + data.length).set(data, within);
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
      if (!chunk && fresh) this.setChunk(index, (chunk = fresh.subarray(used, (used += CHUNK))));
      else chunk = this.chunkFor(index, within + n);
      chunk.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  flush(): void {}
  close(): void {}

  /** Bytes actually held, for tests and benchmarks of sparseness. */
  get residentBytes(): number {
    return this.heldBytes;
  }

  /** Writes every chunk held into `to` (as large as this store): a sparse target stays sparse. */
  copyInto(to: Store): void {
    if (to.size !== this.size) throw new RangeError(`target store is ${to.size} bytes, this one ${this.size}`);
    for (const [i, c] of this.held()) to.write(i * CHUNK, c.length === CHUNK ? c : padded(c));
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
      for (let i = 0; i < CHUNK; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return false; // past a short chunk: zero
    }
    return true;
  }
}

/** A short chunk as the whole chunk it stands for. */
function padded(chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK);
  out.set(chunk);
  return out;
}
