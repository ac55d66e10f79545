import { copyBytes, newBytes } from '../core/bytes';
import { checkRange, Store } from './store';

const CHUNK = 4096;
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
  private readonly chunks = new Map<number, Uint8Array>();
  writes = 0;
  private slab: ArrayBuffer | undefined;
  private slabUsed = 0;
  private slabChunks = FIRST_SLAB_CHUNKS / 2;

  constructor(readonly size: number) {}

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
      const chunk = this.chunks.get(index);
      return chunk ? copyBytes(chunk.subarray(within, within + length)) : newBytes(length);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, length - done);
      const chunk = this.chunks.get(index);
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
      let chunk = this.chunks.get(first);
      if (!chunk) {
        chunk = this.newChunk();
        this.chunks.set(first, chunk);
      }
      chunk.set(data, offset - first * CHUNK);
      return;
    }
    // The chunks a long write creates share one buffer: one allocation, not one per 4 KiB.
    const last = Math.floor((offset + data.length - 1) / CHUNK);
    let absent = 0;
    for (let i = first; i <= last; i++) if (!this.chunks.has(i)) absent++;
    const fresh = absent > 1 ? new Uint8Array(absent * CHUNK) : undefined;
    let used = 0;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, data.length - done);
      let chunk = this.chunks.get(index);
      if (!chunk) {
        chunk = fresh ? fresh.subarray(used, (used += CHUNK)) : this.newChunk();
        this.chunks.set(index, chunk);
      }
      chunk.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  flush(): void {}
  close(): void {}

  /** Bytes actually held, for tests and benchmarks of sparseness. */
  get residentBytes(): number {
    return this.chunks.size * CHUNK;
  }

  /** Writes every chunk held into `to` (as large as this store): a sparse target stays sparse. */
  copyInto(to: Store): void {
    if (to.size !== this.size) throw new RangeError(`target store is ${to.size} bytes, this one ${this.size}`);
    for (const [i, c] of this.chunks) to.write(i * CHUNK, c);
  }

  /** A deep copy, so a test can compare before and after states. */
  clone(): MemoryStore {
    const copy = new MemoryStore(this.size);
    for (const [i, c] of this.chunks) copy.chunks.set(i, c.slice());
    return copy;
  }

  /** Compares content byte for byte (absent chunks equal zero chunks). */
  sameContentAs(other: MemoryStore): boolean {
    if (other.size !== this.size) return false;
    const zero = new Uint8Array(CHUNK);
    const keys = new Set([...this.chunks.keys(), ...other.chunks.keys()]);
    for (const k of keys) {
      const a = this.chunks.get(k) ?? zero;
      const b = other.chunks.get(k) ?? zero;
      for (let i = 0; i < CHUNK; i++) if (a[i] !== b[i]) return false;
    }
    return true;
  }
}
